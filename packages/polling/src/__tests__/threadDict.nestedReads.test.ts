import { describe, expect, it } from 'vitest';
import { ThreadDict } from '../index.js';
import { never, T0, virtualTime } from './helpers.js';

/** A key derived from another: its read reads that key through the dict. */
describe('ThreadDict: a read that reads another key', () => {
  it('keeps its own context: ctx.previous and ctx.dueAt are still its key', async () => {
    const { clock } = virtualTime();
    const seen: string[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: (key, ctx) => {
        if (key !== 'derived') return 1;
        void dict.read('base', { source: 'device' });
        seen.push(`${ctx.previous.key}@${ctx.dueAt - T0}`);
        return 2;
      },
    });
    dict.append('base');
    dict.start();
    await clock.advance(50);
    dict.append('derived');
    await clock.advance(0);
    expect(seen).toEqual(['derived@50']);
    await dict.kill();
  });

  it('its signal is still aborted on timeout when the inner read looked at its own signal', async () => {
    const { clock } = virtualTime();
    let outer: AbortSignal | undefined;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      timeoutMs: 50,
      read: (key, { signal }) => {
        if (key !== 'derived') return signal.aborted ? 0 : 1;
        outer = signal;
        void dict.read('base', { source: 'device' });
        return never<number>();
      },
    });
    dict.append('base').append('derived');
    dict.start();
    await clock.advance(60);
    expect(outer?.aborted).toBe(true);
    await dict.kill();
  });
});
