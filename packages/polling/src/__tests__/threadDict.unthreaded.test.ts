import { describe, expect, it } from 'vitest';
import { ThreadDict } from '../index.js';
import { virtualTime } from './helpers.js';

describe('ThreadDict threaded: false', () => {
  it('never polls, even after a failed read on access of a started dict (no retry timer)', async () => {
    const { clock } = virtualTime();
    let calls = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      threaded: false,
      start: true,
      periodMs: 100,
      read: () => {
        calls++;
        if (calls === 1) throw new Error('down');
        return calls;
      },
    });
    dict.append('a');
    expect(() => dict.get('a')).toThrow();
    expect(calls).toBe(1);
    await clock.advance(1000);
    expect(calls).toBe(1);
    expect(dict.status('a').next).toBeNull();
    await dict.kill();
  });
});
