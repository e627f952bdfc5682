/** Periodic keys (`add`) in virtual time (see virtualPool.ts). */
import { describe, expect, it } from 'vitest';
import { harness } from './virtualPool.js';

describe('WorkerProcess periodic keys', () => {
  it('adding a key again while its run is going refreshes it with the new args right after', async () => {
    const { clock, pool, log } = harness(
      { maxThreads: 2 },
      {
        read: (args, key) => {
          log.push(`${key}:${String(args)}@${clock.now() % 100_000}`);
          return new Promise((resolve) => clock.setTimeout(() => resolve(args), 50));
        },
      },
    );
    pool.add('k', 'read', 'old', { periodMs: 1_000 });
    await clock.advance(10);
    pool.add('k', 'read', 'new', { periodMs: 1_000 });
    await clock.advance(200);
    // The refresh asked for at 10 runs once the run in flight ends (at 50), with the new args.
    expect(log).toEqual(['k:old@0', 'k:new@50']);
    expect(pool.get('k')).toBe('new');
    await pool.kill();
  });
});
