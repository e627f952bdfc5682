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
