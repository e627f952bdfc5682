/** Cancels, groups and kill in virtual time (see virtualPool.ts). */
import { describe, expect, it } from 'vitest';
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
});
