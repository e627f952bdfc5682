import { ConfigError, CronSyntaxError, KeyNotFoundError } from '@tickwork/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterCronTab } from '../clusterCronTab.js';
import { type RedisServer, startRedisServer } from '../testing/redisServer.js';

let redis: RedisServer;
let connection: { host: string; port: number };

beforeAll(async () => {
  redis = await startRedisServer();
  connection = { host: redis.host, port: redis.port };
});

afterAll(async () => {
  await redis?.stop();
});

/** Resolves after `ms` of real time: this file runs a real distributed schedule. */
function realDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('startRedisServer', () => {
  it('serves PING on a loopback port', async () => {
    const client = new Redis({ ...connection, lazyConnect: true });
    await client.connect();
    expect(await client.ping()).toBe('PONG');
    await client.quit();
  });

  it('fails with install advice when the binary is missing', async () => {
    await expect(startRedisServer({ binary: '/nonexistent/redis-server' })).rejects.toThrow(
      /apt-get install -y redis-server/,
    );
  });
});

describe('ClusterCronTab: bad input', () => {
  it('rejects a missing connection, a bad queue name, an expression, a zone and a duplicate name', async () => {
    expect(
      () => new ClusterCronTab(undefined as unknown as { connection: typeof connection }),
    ).toThrow(ConfigError);
    expect(() => new ClusterCronTab({} as { connection: typeof connection })).toThrow(
      /options.connection is required/,
    );
    expect(() => new ClusterCronTab({ connection, queueName: 'a:b', registry: false })).toThrow(
      ConfigError,
    );
    const tab = new ClusterCronTab({
      connection,
      queueName: 'bad-input',
      start: false,
      registry: false,
    });
    try {
      expect(() => tab.add('61 * * * *', () => {})).toThrow(CronSyntaxError);
      expect(() => tab.add('* * * * *', () => {}, { tz: 'Mars/Base' })).toThrow(ConfigError);
      expect(() => tab.add('* * * * *', 'nope' as unknown as () => void)).toThrow(ConfigError);
      expect(() => tab.add('* * * * *', () => {}, { timeoutMs: -1 })).toThrow(ConfigError);
      tab.add('0 3 * * *', () => {}, { name: 'nightly' });
      expect(() => tab.add('0 4 * * *', () => {}, { name: 'nightly' })).toThrow(/exists already/);
      expect(() => tab.job('missing')).toThrow(KeyNotFoundError);
      await tab.synced();
      expect(tab.job('nightly')).toMatchObject({ name: 'nightly', expression: '0 3 * * *' });
      expect(await tab.schedules()).toMatchObject([{ name: 'nightly', pattern: '0 3 * * *' }]);
      expect(await tab.remove('nightly')).toBe(true);
      expect(await tab.schedules()).toEqual([]);
      expect(await tab.remove('nightly')).toBe(false);
    } finally {
      await tab.kill();
    }
    expect(() => tab.add('* * * * *', () => {})).toThrow(/after kill/);
  });
});

describe('ClusterCronTab: reconciling', () => {
  it('upserts idempotently and prunes from one place only what it does not declare', async () => {
    const queueName = 'reconcile';
    const old = new ClusterCronTab({ connection, queueName, start: false, registry: false });
    const owner = new ClusterCronTab({ connection, queueName, start: false, registry: false });
    try {
      old.add('0 1 * * *', () => {}, { name: 'retired' });
      old.add('0 2 * * *', () => {}, { name: 'kept' });
      owner.add('0 2 * * *', () => {}, { name: 'kept' });
      owner.add('0 5 * * *', () => {}, { name: 'fresh', tz: 'Europe/Paris' });
      await Promise.all([old.synced(), owner.synced()]);
      expect((await owner.schedules()).map((s) => s.name).sort()).toEqual([
        'fresh',
        'kept',
        'retired',
      ]);
      expect(await owner.prune()).toEqual(['retired']);
      const after = await owner.schedules();
      expect(after.map((s) => s.name).sort()).toEqual(['fresh', 'kept']);
      expect(after.find((s) => s.name === 'fresh')).toMatchObject({ tz: 'Europe/Paris' });
    } finally {
      await Promise.all([old.kill(), owner.kill()]);
    }
  });
});

describe('ClusterCronTab: concurrent deploys', () => {
  it('lets many nodes upsert one every-second schedule at the same instant', async () => {
    const tabs = Array.from(
      { length: 6 },
      () => new ClusterCronTab({ connection, queueName: 'race', start: false, registry: false }),
    );
    try {
      for (const name of ['r1', 'r2', 'r3', 'r4']) {
        for (const tab of tabs) tab.add('* * * * * *', () => {}, { name });
        // BullMQ makes the losers of the race fail with "job ID already exists"; none may surface.
        await Promise.all(tabs.map((tab) => tab.synced()));
      }
      expect((await tabs[0]!.schedules()).map((s) => s.name).sort()).toEqual([
        'r1',
        'r2',
        'r3',
        'r4',
      ]);
    } finally {
      await Promise.all(tabs.map((tab) => tab.kill()));
    }
  });
});

describe('ClusterCronTab: 3 nodes, one schedule', () => {
  it('runs each every-second slot exactly once across the nodes', async () => {
    const queueName = 'every-second';
    const runs: { node: string; scheduledAt: number; jobId: string; startedAt: number }[] = [];
    const nodes = ['a', 'b', 'c'].map((node) => {
      const tab = new ClusterCronTab({
        connection,
        queueName,
        name: `node-${node}`,
        registry: false,
      });
      tab.add(
        '* * * * * *',
        ({ scheduledAt, jobId }) => {
          runs.push({ node, scheduledAt, jobId, startedAt: Date.now() });
        },
        { name: 'tick' },
      );
      return tab;
    });
    try {
      // Concurrent deploys: all three upsert the same scheduler at once.
      await Promise.all(nodes.map((tab) => tab.synced()));
      const syncedAt = Date.now();
      await realDelay(6_500);
      await Promise.all(nodes.map((tab) => tab.stop({ timeoutMs: 5_000 })));

      const schedules = await nodes[0]!.schedules();
      expect(schedules).toMatchObject([{ name: 'tick', pattern: '* * * * * *' }]);

      const slots = runs.map((r) => r.scheduledAt).sort((x, y) => x - y);
      // Exactly once: no slot ran twice, on one node or two.
      expect(new Set(slots).size).toBe(slots.length);
      expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
      // Slots are whole seconds and, after the schedule was in place, none was dropped.
      for (const slot of slots) expect(slot % 1000).toBe(0);
      const steady = slots.filter((slot) => slot > syncedAt);
      expect(steady.length).toBeGreaterThanOrEqual(5);
      for (let i = 1; i < steady.length; i++) expect(steady[i]! - steady[i - 1]!).toBe(1000);
      // Lateness is measured from the slot time.
      for (const run of runs) expect(run.startedAt).toBeGreaterThanOrEqual(run.scheduledAt);
      const counts = nodes.map((tab) => tab.diagnostics().items?.[0]?.stats.count ?? 0);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(runs.length);
      const lateness = nodes.flatMap((tab) => {
        const stats = tab.diagnostics().items?.[0]?.stats;
        return stats !== undefined && stats.count > 0 ? [stats.lateness.max] : [];
      });
      for (const ms of lateness) expect(ms).toBeLessThan(1_000);
      expect(nodes[0]!.history('tick').every((run) => run.ok)).toBe(true);
    } finally {
      await Promise.all(nodes.map((tab) => tab.kill()));
    }
  });
});
