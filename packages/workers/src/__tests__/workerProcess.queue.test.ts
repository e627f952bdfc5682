/** Queue admission and ordering in virtual time (see virtualPool.ts). */
import { OverrunError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { settled } from './helpers.js';
import { harness } from './virtualPool.js';

describe('WorkerProcess queue', () => {
  it('with maxQueue 0 runs a request a free thread can take, and refuses only those that would wait', async () => {
    const { clock, pool, log } = harness({ maxQueue: 0 });
    const first = pool.send('first', 'work', 10);
    const second = pool.send('second', 'work', 10);
    await clock.advance(10);
    expect(await first).toBe('first');
    const info = await settled(second);
    expect(info.error).toBeInstanceOf(OverrunError);
    const third = pool.send('third', 'work', 10);
    await clock.advance(10);
    expect(await third).toBe('third');
    expect(log).toEqual(['first@0', 'third@10']);
    await pool.kill();
  });

  it('a high-priority dependent goes before a low-priority request queued while its upstream ran', async () => {
    const { clock, pool, log } = harness();
    const up = pool.send('up', 'work', 10);
    pool.send('low', 'work', 10, { priority: 'low' });
    pool.send('dep', 'work', 10, { priority: 'high', after: up.id });
    await clock.advance(30);
    expect(log).toEqual(['up@0', 'dep@10', 'low@20']);
    await pool.kill();
  });
});
