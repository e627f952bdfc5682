import { AbortError, ConfigError, TimeoutError } from '@tickwork/core';
import { WorkerProcess } from '@tickwork/workers';
import { describe, expect, it } from 'vitest';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import type { handlers } from './fixtures/clusterWorkerExecutor.js';
import { until } from './fixtures/clusterWorkerSupport.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

const local = { inMain: (n: number) => n + 1 };
type Both = typeof handlers & typeof local;

/** The pool's count of requests of `target` that ended in `state`. */
function poolCount(pool: WorkerProcess<typeof handlers>, target: string, state: string): number {
  const item = pool.diagnostics().items?.find((i) => i.name === `target:${target}`);
  return (item?.detail?.[state] as number | undefined) ?? 0;
}

describe('ClusterWorkerNode with a WorkerProcess pool', () => {
  it('runs pool targets in worker threads (cancel and timeout reach the thread), the rest in the node', async () => {
    const pool = new WorkerProcess<typeof handlers>({
      executor: new URL('./fixtures/clusterWorkerExecutor.ts', import.meta.url),
      maxThreads: 2,
      registry: false,
    });
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName: 'pool',
      handlers: local,
      pool,
      concurrency: 2,
      registry: false,
    });
    const client = new ClusterWorkerProcess<Both>({
      connection: redis.connection,
      queueName: 'pool',
      registry: false,
    });
    try {
      const squared = await client.send('k', 'square', 7);
      expect(squared.n).toBe(49);
      expect(squared.threadId).toBeGreaterThan(0);
      expect(await client.send('k', 'whoAmI', undefined)).toMatchObject({ key: 'k' });
      expect(await client.send('k', 'inMain', 1)).toBe(2);
      expect(poolCount(pool, 'square', 'completed')).toBe(1);

      // A cancel reaches the pool request through the signal the node passes.
      const hanging = client.send('k', 'hang', 30_000);
      await until(() => pool.running === 1, 'running in a thread');
      await client.cancel(hanging.id);
      await expect(hanging).rejects.toBeInstanceOf(AbortError);
      await until(() => poolCount(pool, 'hang', 'canceled') === 1, 'canceled in the pool');

      // timeoutMs goes to the pool too (it limits the thread's run).
      await expect(client.send('k', 'hang', 30_000, { timeoutMs: 100 })).rejects.toBeInstanceOf(
        TimeoutError,
      );
      await until(() => pool.running === 0, 'thread free');

      // A target neither the node nor the pool has: the pool's ConfigError comes back.
      const unknown = client.send('k', 'nope' as 'inMain', 1);
      await expect(unknown).rejects.toBeInstanceOf(ConfigError);
      const diag = node.diagnostics();
      expect(diag.items?.map((i) => i.name).sort()).toEqual([
        'target:hang',
        'target:inMain',
        'target:nope',
        'target:square',
        'target:whoAmI',
      ]);
      expect(diag.items?.find((i) => i.name === 'target:hang')?.detail).toMatchObject({
        canceled: 1,
        timedOut: 1,
      });
    } finally {
      await client.kill();
      await node.kill();
      await pool.kill();
    }
  });

  it('hands running requests back to the queue when killed, for another node to run', async () => {
    const queueName = 'handback';
    const runs: string[] = [];
    const slow = {
      async work(ms: number, ctx: { id: string; attempt: number; signal: AbortSignal }) {
        runs.push(`${ctx.id}#${ctx.attempt}`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
        return ctx.attempt;
      },
    };
    const first = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      handlers: slow,
      registry: false,
    });
    const client = new ClusterWorkerProcess<typeof slow>({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    const second = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      handlers: slow,
      start: false,
      registry: false,
    });
    try {
      const handle = client.send('k', 'work', 300);
      await until(() => runs.length === 1, 'started on the first node');
      await first.kill();
      second.start();
      // Run again on the second node (attempt 2), and settled once.
      expect(await handle).toBe(2);
      expect(runs).toEqual([`${handle.id}#1`, `${handle.id}#2`]);
      expect(first.diagnostics().items?.[0]?.detail).toMatchObject({ handedBack: 1 });
    } finally {
      await client.kill();
      await Promise.all([first.kill(), second.kill()]);
    }
  });
});
