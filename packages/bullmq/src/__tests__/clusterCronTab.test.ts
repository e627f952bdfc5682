import { type Clock, ConfigError, CronSyntaxError, KeyNotFoundError } from '@tickwork/core';
import { nextRuns, previousRuns } from '@tickwork/crontab';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterCronTab } from '../clusterCronTab.js';
import { startRedisServer } from '../testing/redisServer.js';
import {
  recorder,
  type SeenRun,
  testTab,
  totalOf,
  waitUntil,
} from './fixtures/clusterCronHelpers.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

describe('startRedisServer', () => {
  it('serves PING on a loopback port', async () => {
    const client = new Redis({ ...redis.connection, lazyConnect: true });
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
      () => new ClusterCronTab(undefined as unknown as { connection: typeof redis.connection }),
    ).toThrow(ConfigError);
    expect(() => new ClusterCronTab({} as { connection: typeof redis.connection })).toThrow(
      /options.connection is required/,
    );
    expect(
      () => new ClusterCronTab({ connection: redis.connection, queueName: 'a:b', registry: false }),
    ).toThrow(ConfigError);
    const tab = new ClusterCronTab({
      connection: redis.connection,
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
    await expect(tab.pause()).rejects.toThrow(/after kill/);
    await expect(tab.trigger('nightly')).rejects.toThrow(/after kill/);
  });

  it('rejects bad tab options, job options and arguments with ConfigError naming the option', async () => {
    const bad: Record<string, unknown>[] = [
      { lockDurationMs: 0 },
      { stalledIntervalMs: -1 },
      { reconcileMs: Number.NaN },
      { manageSchedules: 'yes' },
      { concurrency: 0 },
      { tz: 'Mars/Base' },
    ];
    for (const options of bad) {
      const [option] = Object.keys(options);
      expect(
        () => new ClusterCronTab({ connection: redis.connection, registry: false, ...options }),
      ).toThrow(new RegExp(`ClusterCronTab: options.${option}`));
    }
    const tab = testTab(redis.connection, 'bad-options', { start: false });
    try {
      const badJob: Record<string, unknown>[] = [
        { overrun: 'later' },
        { catchUp: 'all' },
        { maxRuns: 0 },
        { maxRuns: 1.5 },
        { startAt: 'tomorrow' },
        { stopAt: Number.POSITIVE_INFINITY },
        { args: [1, 2] },
      ];
      for (const options of badJob) {
        const [option] = Object.keys(options);
        expect(() => tab.add('* * * * *', () => {}, options)).toThrow(ConfigError);
        expect(() => tab.add('* * * * *', () => {}, options)).toThrow(
          new RegExp(`ClusterCronTab.add: options.${option}`),
        );
      }
      expect(() => tab.add('* * * * *', () => {}, { startAt: 2_000, stopAt: 1_000 })).toThrow(
        /stopAt must not be before/,
      );
      expect(tab.jobs()).toEqual([]);
      tab.add('0 3 * * *', () => {}, { name: 'nightly' });
      expect(() => tab.nextRuns('nightly', -1)).toThrow(ConfigError);
      expect(() => tab.previousRuns('nightly', 1.5)).toThrow(ConfigError);
      expect(() => tab.nextRuns('missing')).toThrow(KeyNotFoundError);
      expect(() => tab.history('missing')).toThrow(KeyNotFoundError);
      await expect(tab.resume('missing')).rejects.toThrow(KeyNotFoundError);
    } finally {
      await tab.kill();
    }
  });
});

describe('ClusterCronTab: cron maths and crontab files', () => {
  it('gives nextRuns and previousRuns by the @tickwork/crontab maths, within startAt/stopAt/maxRuns', async () => {
    const tab = testTab(redis.connection, 'maths', { start: false, manageSchedules: false });
    try {
      tab.add('30 2 * * *', () => {}, { name: 'ny', tz: 'America/New_York' });
      // Daily slots: the instants between the two calls change nothing.
      expect(tab.nextRuns('ny', 3)).toEqual(
        nextRuns('30 2 * * *', 3, Date.now(), { tz: 'America/New_York' }),
      );
      expect(tab.previousRuns('ny', 2)).toEqual(
        previousRuns('30 2 * * *', 2, Date.now() + 1, { tz: 'America/New_York' }),
      );
      const startAt = Date.UTC(2040, 0, 1);
      tab.add('0 0 * * *', () => {}, {
        name: 'bounded',
        tz: 'UTC',
        startAt,
        stopAt: startAt + 2 * 86_400_000,
      });
      expect(tab.nextRuns('bounded', 10)).toEqual([
        startAt,
        startAt + 86_400_000,
        startAt + 2 * 86_400_000,
      ]);
      tab.add('* * * * *', () => {}, { name: 'twice', maxRuns: 2 });
      expect(tab.nextRuns('twice', 10)).toHaveLength(2);
      expect(tab.job('bounded')).toMatchObject({
        next: startAt,
        paused: false,
        done: false,
        runs: 0,
      });
    } finally {
      await tab.kill();
    }
  });

  it('parses crontab text like CronTab.parseFile and loads it with named tasks or a worker, never shell', async () => {
    const text = [
      '# nightly jobs',
      'CRON_TZ=Europe/Paris',
      '0 3 * * * backup --full',
      '@daily report',
      '*/5 * * * * refresh cache',
    ].join('\n');
    const entries = ClusterCronTab.parseFile(text);
    expect(entries.map((e) => [e.line, e.expression, e.name, e.args, e.tz])).toEqual([
      [3, '0 3 * * *', 'backup', ['--full'], 'Europe/Paris'],
      [4, '@daily', 'report', [], 'Europe/Paris'],
      [5, '*/5 * * * *', 'refresh', ['cache'], 'Europe/Paris'],
    ]);
    expect(() => ClusterCronTab.parseFile('61 * * * * x')).toThrow(CronSyntaxError);

    const runs: SeenRun[] = [];
    const sent: unknown[][] = [];
    const worker = {
      send: (key: string, target: string, args?: unknown) => {
        sent.push([key, target, args]);
        return Promise.resolve(`${target} done`);
      },
    };
    const tab = testTab(redis.connection, 'crontab-file', { name: 'file-node' });
    try {
      expect(() => tab.load(text, { tasks: {} })).toThrow(/no task named "backup"/);
      expect(() => tab.load(text, { shell: true } as never)).toThrow(/shell is not supported/);
      expect(tab.jobs()).toEqual([]); // nothing added when a line fails
      const names = tab.load(text, { tasks: { backup: recorder(runs, 'file-node') }, worker });
      expect(names).toEqual(['backup', 'report', 'refresh']);
      expect(tab.job('backup')).toMatchObject({ expression: '0 3 * * *', tz: 'Europe/Paris' });
      await tab.synced();
      expect((await tab.schedules()).map((s) => s.name).sort()).toEqual([
        'backup',
        'refresh',
        'report',
      ]);
      const backup = await tab.trigger('backup', { timeoutMs: 10_000 });
      expect(backup).toMatchObject({ ok: true, value: 'file-node', trigger: 'manual' });
      const refresh = await tab.trigger('refresh', { timeoutMs: 10_000 });
      expect(refresh).toMatchObject({ ok: true, value: 'refresh done' });
      expect(sent).toEqual([['refresh', 'refresh', ['cache']]]);
      // Loading the same file again names the jobs after their lines.
      expect(tab.load(text, { worker })).toEqual(['backup#3', 'report#4', 'refresh#5']);
    } finally {
      await tab.kill();
    }
  });
});

describe('ClusterCronTab: reconciling', () => {
  it('upserts idempotently and prunes from one place only what it does not declare', async () => {
    const queueName = 'reconcile';
    const old = new ClusterCronTab({
      connection: redis.connection,
      queueName,
      start: false,
      registry: false,
    });
    const owner = new ClusterCronTab({
      connection: redis.connection,
      queueName,
      start: false,
      registry: false,
    });
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

describe('ClusterCronTab: a broken schedule', () => {
  it('is put back by the next node that adds the job when its pending slot job is gone', async () => {
    const queueName = 'repair';
    const first = testTab(redis.connection, queueName, { start: false });
    const queue = new Queue(queueName, { connection: redis.connection });
    const client = new Redis(redis.connection);
    try {
      first.add('0 3 * * *', () => {}, { name: 'nightly', tz: 'UTC' });
      await first.synced();
      const [stored] = await first.schedules();
      const slotId = `repeat:nightly:${stored!.next}`;
      expect(await queue.getJob(slotId)).toBeDefined();
      // The slot job goes (as when BullMQ fails to make the next one): the chain is
      // broken. BullMQ refuses to remove a scheduler's job, so this goes behind its back.
      await client.zrem(`bull:${queueName}:delayed`, slotId);
      await client.del(`bull:${queueName}:${slotId}`);
      expect(await queue.getJob(slotId)).toBeUndefined();
      const second = testTab(redis.connection, queueName, { start: false });
      try {
        second.add('0 3 * * *', () => {}, { name: 'nightly', tz: 'UTC' });
        await second.synced();
        expect(await queue.getJob(slotId)).toBeDefined();
      } finally {
        await second.kill();
      }
    } finally {
      await Promise.all([first.kill(), queue.close(), client.quit()]);
    }
  });
});

describe('ClusterCronTab: concurrent deploys', () => {
  it('lets many nodes upsert one every-second schedule at the same instant', async () => {
    const tabs = Array.from(
      { length: 6 },
      () =>
        new ClusterCronTab({
          connection: redis.connection,
          queueName: 'race',
          start: false,
          registry: false,
        }),
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

describe('ClusterCronTab: 3 nodes, one schedule, 20 slots', () => {
  it('runs each every-second slot exactly once across the nodes', { timeout: 60_000 }, async () => {
    const queueName = 'every-second';
    const runs: SeenRun[] = [];
    const nodes = ['a', 'b', 'c'].map((node) => {
      const tab = testTab(redis.connection, queueName, { name: `node-${node}` });
      tab.add('* * * * * *', recorder(runs, node), { name: 'tick' });
      return tab;
    });
    try {
      // Concurrent deploys: all three put the same scheduler in place at once.
      await Promise.all(nodes.map((tab) => tab.synced()));
      const syncedAt = Date.now();
      // The window: the 20 whole seconds after the schedule was in place.
      const first = Math.ceil(syncedAt / 1000) * 1000 + 1000;
      const last = first + 19_000;
      await waitUntil(() => Date.now() > last + 1_500, 30_000, 'the 20 slots to pass');
      await Promise.all(nodes.map((tab) => tab.stop({ timeoutMs: 5_000 })));

      const schedules = await nodes[0]!.schedules();
      expect(schedules).toMatchObject([{ name: 'tick', pattern: '* * * * * *' }]);
      // Exactly once: no slot ran twice, on one node or two.
      const slots = runs.map((r) => r.scheduledAt);
      expect(new Set(slots).size).toBe(slots.length);
      expect(new Set(runs.map((r) => r.jobId)).size).toBe(runs.length);
      for (const slot of slots) expect(slot % 1000).toBe(0);
      // None missing in the window. The edges are left out on purpose: the slot
      // due while the nodes were still upserting may be replaced by the next
      // one, and the one due when they stopped may be handed back unrun. A slot
      // taken more than a second late on a loaded machine runs as a catch-up
      // for the latest passed slot, the skipped one counted in missed.
      const inWindow = slots.filter((slot) => slot >= first && slot <= last);
      const missed = totalOf(nodes, 'missed');
      expect(inWindow.length + missed).toBeGreaterThanOrEqual(20);
      expect(inWindow.length).toBeGreaterThanOrEqual(18);
      // Several nodes took slots (BullMQ hands each to whichever worker asks first).
      expect(new Set(runs.map((r) => r.node)).size).toBeGreaterThanOrEqual(2);
      for (const run of runs) expect(run.startedAt).toBeGreaterThanOrEqual(run.scheduledAt);
      expect(totalOf(nodes, 'count')).toBe(runs.length);
      const lateness = nodes.flatMap((tab) => {
        const stats = tab.diagnostics().items?.[0]?.stats;
        return stats !== undefined && stats.count > 0 ? [stats.lateness.p50] : [];
      });
      for (const ms of lateness) expect(ms).toBeLessThan(500);
      expect(runs.every((run) => run.trigger === 'schedule' || run.trigger === 'catch-up')).toBe(
        true,
      );
    } finally {
      await Promise.all(nodes.map((tab) => tab.kill()));
    }
  });

  it('judges catch-up from when BullMQ took the slot, so a slot boundary crossed since runs no slot twice', async () => {
    // The node's clock reads 1.2 s past the worker's: every slot looks taken
    // after the next one was due. That next slot is the successor BullMQ made
    // when it took this one; running this one as its catch-up ran it twice.
    const ahead: Clock = {
      now: () => Date.now() + 1_200,
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    };
    const runs: SeenRun[] = [];
    const tab = testTab(redis.connection, 'catchup-taken', { name: 'skewed', clock: ahead });
    tab.add('* * * * * *', recorder(runs, 'skewed'), { name: 'tick' });
    try {
      await tab.synced();
      await waitUntil(() => runs.length >= 4, 15_000, 'four runs');
      await tab.stop({ timeoutMs: 5_000 });
      const slots = runs.map((r) => r.scheduledAt);
      expect(new Set(slots).size).toBe(slots.length);
      expect(runs.every((run) => run.trigger === 'schedule')).toBe(true);
    } finally {
      await tab.kill();
    }
  });
});
