import { describe, expect, it } from 'vitest';
import { ThreadedObject } from '../index.js';
import { virtualTime } from './helpers.js';

describe('ThreadedObject: start() while a stop() waits for the run', () => {
  it('runs stopHook at the next stop, not when the old run ends with the object running again', async () => {
    const { clock, delay } = virtualTime();
    const hookStates: string[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => delay(50),
      stopHook: () => {
        hookStates.push(obj.state);
      },
    });
    obj.start();
    await clock.advance(10);
    const first = obj.stop(); // the run started at 0 is still going
    obj.start();
    await clock.advance(60);
    await first;
    expect(hookStates).toEqual([]);
    await clock.advance(100);
    const second = obj.stop();
    await clock.advance(100);
    expect(await second).toBe(true);
    expect(hookStates).toEqual(['stopping']);
    await obj.kill();
  });
});

describe('ThreadedObject: two stop() calls', () => {
  it('both resolve only once the async stopHook finished', async () => {
    const { clock, delay } = virtualTime();
    let hookDone = false;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => delay(50),
      stopHook: async () => {
        await delay(100);
        hookDone = true;
      },
    });
    obj.start();
    await clock.advance(10);
    const settled: boolean[] = [];
    const first = obj.stop().then((idle) => settled.push(hookDone && idle));
    const second = obj.stop().then((idle) => settled.push(hookDone && idle));
    await clock.advance(60); // the run ended at 50; the hook runs until 150
    expect(settled).toEqual([]);
    await clock.advance(100);
    await Promise.all([first, second]);
    expect(settled).toEqual([true, true]);
    await obj.kill();
  });
});

describe('ThreadedObject: kill() from a hook', () => {
  it('kill() in startHook: the target of that run is not called', async () => {
    const { clock } = virtualTime();
    let runs = 0;
    const obj: ThreadedObject<[], void> = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => {
        runs++;
      },
      startHook: () => {
        void obj.kill();
        return undefined;
      },
    });
    obj.start();
    await clock.advance(200);
    expect(runs).toBe(0);
    expect(obj.state).toBe('killed');
  });
});

describe('ThreadedObject: kill() with a run in flight', () => {
  it('the abandoned run is not left counted as running, nor as finished', async () => {
    const { clock } = virtualTime();
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => new Promise<void>(() => {}), // never settles
    });
    obj.start();
    await clock.advance(10);
    expect(obj.stats().running).toBe(1);
    await obj.kill();
    expect(obj.stats().running).toBe(0);
    expect(obj.stats().count).toBe(0);
    expect(obj.diagnostics().stats.running).toBe(0);
  });
});
