import { ExpiredError, KeyNotFoundError } from '@tickwork/core';
import type { KeyEntry } from '@tickwork/workers';
import { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { ClusterHandlerContext } from '../clusterRequest.js';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import { until } from './fixtures/clusterWorkerSupport.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

function keyHandlers(counts: Map<string, number>, ids: string[]) {
  return {
    tick(args: { base: number }, ctx: ClusterHandlerContext) {
      const n = (counts.get(ctx.key) ?? 0) + 1;
      counts.set(ctx.key, n);
      ids.push(ctx.id);
      if (args.base < 0) throw new RangeError('negative base');
      return args.base + n;
    },
  };
}
type KeyHandlers = ReturnType<typeof keyHandlers>;

describe('ClusterWorkerProcess periodic keys (add)', () => {
  it('refreshes a key in the cluster, cached for get, watch and callback, until removed', async () => {
    const queueName = 'keys';
    const counts = new Map<string, number>();
    const ids: string[] = [];
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      handlers: keyHandlers(counts, ids),
      registry: false,
    });
    const client = new ClusterWorkerProcess<KeyHandlers>({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    const raw = new Queue(queueName, { connection: redis.connection });
    try {
      const seen: unknown[] = [];
      const entries: KeyEntry[] = [];
      client.add(
        'sys:tg:1/temp',
        'tick',
        { base: 100 },
        {
          periodMs: 150,
          expireMs: 5_000,
          callback: (error, value) => seen.push(error ?? value),
        },
      );
      let completed = false;
      client.watch('sys:tg:1/temp').subscribe({
        next: (e) => entries.push(e),
        complete: () => {
          completed = true;
        },
      });
      expect(entries[0]).toMatchObject({ hasValue: false, stale: true, periodMs: 150 });
      expect(() => client.get('sys:tg:1/temp')).toThrow(KeyNotFoundError);
      await client.synced();
      await until(() => seen.length >= 3, '3 refreshes');
      const value = client.get('sys:tg:1/temp') as number;
      expect(value).toBeGreaterThanOrEqual(103);
      expect(seen.slice(0, 3)).toEqual([101, 102, 103]);
      expect(entries.filter((e) => e.hasValue).length).toBeGreaterThanOrEqual(3);
      // One scheduler job per slot: ids are the slot jobs (repeat:<key>:<slot ms>), each once.
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids[0]).toMatch(/^repeat:sys%3Atg%3A1\/temp:\d+$/);
      const item = client.diagnostics().items?.find((i) => i.name === 'key:sys:tg:1/temp');
      expect(item?.detail).toMatchObject({ periodMs: 150, expireMs: 5_000 });
      expect(item?.stats.count).toBeGreaterThanOrEqual(3);

      // A second client adding the same key gets the stored value at once, before its next run.
      const late = new ClusterWorkerProcess<KeyHandlers>({
        connection: redis.connection,
        queueName,
        registry: false,
      });
      try {
        late.add('sys:tg:1/temp', 'tick', { base: 100 }, { periodMs: 150, expireMs: 5_000 });
        await late.synced();
        expect(late.get('sys:tg:1/temp')).toBeGreaterThanOrEqual(101);
      } finally {
        await late.kill();
      }

      expect(client.remove('sys:tg:1/temp')).toBe(true);
      expect(client.remove('sys:tg:1/temp')).toBe(false);
      await client.synced();
      expect(await raw.getJobScheduler('sys%3Atg%3A1/temp')).toBeUndefined();
      expect(() => client.get('sys:tg:1/temp')).toThrow(KeyNotFoundError);
      expect(completed).toBe(true);
      const runs = counts.get('sys:tg:1/temp') ?? 0;
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(counts.get('sys:tg:1/temp')).toBeLessThanOrEqual(runs + 1);
    } finally {
      await raw.close();
      await client.kill();
      await node.kill();
    }
  });

  it('expires a value no node refreshes, and keeps the last good value after a failed run', async () => {
    const queueName = 'expiry';
    const counts = new Map<string, number>();
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      handlers: keyHandlers(counts, []),
      registry: false,
    });
    const client = new ClusterWorkerProcess<KeyHandlers>({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    try {
      client.add('k', 'tick', { base: 0 }, { periodMs: 100, expireMs: 300 });
      await until(() => client.entry('k').hasValue, 'a value');
      // Runs now fail: the last good value stays while fresh, with the error beside it.
      client.add('k', 'tick', { base: -1 }, { periodMs: 100, expireMs: 300 });
      await until(() => client.entry('k').error !== null, 'a failed run');
      expect(client.entry('k').error).toBeInstanceOf(RangeError);
      expect(typeof client.entry('k').value).toBe('number');
      await until(() => client.entry('k').stale, 'expiry', 5_000);
      const error = (() => {
        try {
          client.get('k');
          return undefined;
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ExpiredError);
      expect((error as ExpiredError).ageMs).toBeGreaterThan(300);
      expect(client.get('k', { allowStale: true })).toBe((error as ExpiredError).value);
    } finally {
      client.remove('k');
      await client.synced();
      await client.kill();
      await node.kill();
    }
  });
});
