/** Cancels, groups and kill in virtual time (see virtualPool.ts). */
import { StoppedError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { settled } from './helpers.js';
import { harness } from './virtualPool.js';

describe('WorkerProcess cancel, stopGroup and kill', () => {
  it('stopGroup counts every request of the group it canceled, dependents and joiners too', async () => {
    const { pool } = harness();
    pool.send('busy', 'work', 100);
    const up = pool.send('a', 'work', 10, { group: 'g' });
    pool.send('b', 'work', 10, { group: 'g', after: up.id });
    pool.send('a', 'work', 10, { group: 'g', dedupe: true });
    expect(pool.stopGroup('g')).toBe(3);
    await pool.kill();
  });

  it('kill settles a request waiting for its upstream with StoppedError, like every other', async () => {
    const { pool } = harness();
    const up = pool.send('up', 'hang');
    const dep = pool.send('dep', 'work', 10, { after: up.id });
    await pool.kill();
    const info = await settled(dep);
    expect(info.state).toBe('canceled');
    expect(info.error).toBeInstanceOf(StoppedError);
  });
});
