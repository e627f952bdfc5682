import { ConfigError, KeyNotFoundError, TimeoutError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import type { ClusterCronTab } from '../clusterCronTab.js';
import {
  realDelay,
  recorder,
  type SeenRun,
  testTab,
  totalOf,
  waitUntil,
} from './fixtures/clusterCronHelpers.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

/** Two nodes of one queue, each set up by `add`. */
function pair(
  queueName: string,
  add: (tab: ClusterCronTab, node: string) => void,
): ClusterCronTab[] {
  return ['a', 'b'].map((node) => {
    const tab = testTab(redis.connection, queueName, {
      name: `${queueName}-${node}`,
      reconcileMs: 200,
    });
    add(tab, node);
    return tab;
  });
}

describe('ClusterCronTab: pause and resume', () => {
  it('stops the job on every node, counts paused slots as skipped, and resumes without a burst', async () => {
    const runs: SeenRun[] = [];
    const nodes = pair('pause', (tab, node) =>
      tab.add('* * * * * *', recorder(runs, node), { name: 'tick' }),
    );
    try {
      await Promise.all(nodes.map((tab) => tab.synced()));
      await waitUntil(() => runs.length >= 2, 10_000, 'two runs');
      await nodes[0]!.pause('tick');
      const pausedAt = Date.now();
      expect(nodes[0]!.job('tick')).toMatchObject({ paused: true, next: null });
      // The other node reads the flag within reconcileMs.
      await waitUntil(() => nodes[1]!.job('tick').paused, 3_000, 'node b to see the pause');
      await realDelay(3_000);
      // A slot claimed just before the flag was set may still start; none after.
      expect(runs.filter((run) => run.scheduledAt > pausedAt + 1_000)).toEqual([]);
      expect(totalOf(nodes, 'skipped')).toBeGreaterThanOrEqual(2);

      await nodes[1]!.resume(); // every job of node b
      const resumedAt = Date.now();
      await waitUntil(
        () => runs.filter((run) => run.startedAt > resumedAt).length >= 2,
        5_000,
        'runs after resume',
      );
      const after = runs.filter((run) => run.startedAt > resumedAt);
      // No burst: only slots from about the resume on run.
      for (const run of after) expect(run.scheduledAt).toBeGreaterThan(resumedAt - 1_000);
      await waitUntil(() => !nodes[0]!.job('tick').paused, 3_000, 'node a to see the resume');
      await expect(nodes[0]!.pause('missing')).rejects.toThrow(KeyNotFoundError);
    } finally {
      await Promise.all(nodes.map((tab) => tab.kill()));
    }
  });
});

describe('ClusterCronTab: trigger', () => {
  it('runs the job once now on a node of the cluster, paused or not, and resolves with the run', async () => {
    const runs: SeenRun[] = [];
    // The caller does not run tasks (start: false): the run must happen on the worker node.
    const caller = testTab(redis.connection, 'trigger', { name: 'caller', start: false });
    const worker = testTab(redis.connection, 'trigger', { name: 'worker' });
    try {
      for (const [tab, node] of [
        [caller, 'caller'],
        [worker, 'worker'],
      ] as const) {
        tab.add('0 0 1 1 *', recorder(runs, node), { name: 'yearly', args: ['--full'] });
        tab.add(
          '0 0 1 1 *',
          () => {
            throw new ConfigError('bad setting', 'setting');
          },
          { name: 'broken' },
        );
      }
      await Promise.all([caller.synced(), worker.synced()]);
      await caller.pause('yearly');
      const run = await caller.trigger('yearly', { timeoutMs: 10_000 });
      expect(run).toMatchObject({ job: 'yearly', trigger: 'manual', ok: true, value: 'worker' });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ node: 'worker', trigger: 'manual', attempt: 1 });
      expect(runs[0]!.jobId).toMatch(/^tickwork-manual-/);
      expect(run.startedAt).toBeGreaterThanOrEqual(run.scheduledAt);
      expect(worker.history('yearly')).toMatchObject([{ trigger: 'manual', ok: true }]);

      // A failed run resolves too, with its error's class and properties.
      const failed = await caller.trigger('broken', { timeoutMs: 10_000 });
      expect(failed.ok).toBe(false);
      expect(failed.error).toBeInstanceOf(ConfigError);
      expect(failed.error).toMatchObject({ message: 'bad setting', path: 'setting' });

      // The same trigger id does not run twice.
      const first = await caller.trigger('yearly', { id: 'deploy-42', timeoutMs: 10_000 });
      const again = await caller.trigger('yearly', { id: 'deploy-42', timeoutMs: 10_000 });
      expect(again.startedAt).toBe(first.startedAt);
      expect(runs).toHaveLength(2);

      // With no node running tasks, the caller times out (the job stays queued).
      await worker.stop();
      await expect(caller.trigger('yearly', { timeoutMs: 300 })).rejects.toThrow(TimeoutError);
      await expect(caller.trigger('missing')).rejects.toThrow(KeyNotFoundError);
      await expect(caller.trigger('yearly', { id: 'a:b' })).rejects.toThrow(ConfigError);
      await expect(caller.trigger('yearly', { id: '42' })).rejects.toThrow(ConfigError);
      await expect(caller.trigger('yearly', { timeoutMs: -1 })).rejects.toThrow(ConfigError);
    } finally {
      await Promise.all([caller.kill(), worker.kill()]);
    }
  });
});

describe('ClusterCronTab: maxRuns, startAt, stopAt', () => {
  it('counts maxRuns across the cluster and keeps scheduled runs within startAt..stopAt', async () => {
    const limited: SeenRun[] = [];
    const windowed: SeenRun[] = [];
    const startAt = Math.ceil((Date.now() + 2_500) / 1000) * 1000;
    const stopAt = startAt + 2_000;
    const nodes = pair('limits', (tab, node) => {
      tab.add('* * * * * *', recorder(limited, node), { name: 'limited', maxRuns: 3 });
      tab.add('* * * * * *', recorder(windowed, node), {
        name: 'windowed',
        startAt: new Date(startAt),
        stopAt,
      });
    });
    try {
      await Promise.all(nodes.map((tab) => tab.synced()));
      const windowedSchedule = (await nodes[0]!.schedules()).find((s) => s.name === 'windowed');
      expect(windowedSchedule?.next).toBe(startAt); // BullMQ's first slot is startAt itself
      expect(nodes[0]!.nextRuns('windowed', 5)).toEqual([startAt, startAt + 1_000, stopAt]);
      expect(nodes[0]!.nextRuns('limited', 10)).toHaveLength(3);

      await waitUntil(() => Date.now() > stopAt + 1_500, 10_000, 'the window to pass');
      // maxRuns: 3 runs over the two nodes, then the schedule is gone.
      expect(limited).toHaveLength(3);
      expect(new Set(limited.map((run) => run.scheduledAt)).size).toBe(3);
      const names = (await nodes[0]!.schedules()).map((s) => s.name);
      expect(names).not.toContain('limited');
      await waitUntil(
        () => nodes.every((tab) => tab.job('limited').done && tab.job('limited').runs === 3),
        3_000,
        'both nodes to see limited done',
      );
      expect(nodes[1]!.nextRuns('limited')).toEqual([]);
      // startAt..stopAt, both ends included.
      const slots = windowed.map((run) => run.scheduledAt).sort((x, y) => x - y);
      expect(slots.length).toBeGreaterThanOrEqual(2);
      expect(new Set(slots).size).toBe(slots.length);
      for (const slot of slots) {
        expect(slot).toBeGreaterThanOrEqual(startAt);
        expect(slot).toBeLessThanOrEqual(stopAt);
      }
      expect(nodes[0]!.job('windowed')).toMatchObject({ done: true, next: null });
      expect(names).not.toContain('windowed');
      // Manual triggers do not count and run after the end.
      const run = await nodes[0]!.trigger('limited', { timeoutMs: 10_000 });
      expect(run.ok).toBe(true);
      expect(limited).toHaveLength(4);
      // A node added later finds the job done and does not schedule it again.
      const late = testTab(redis.connection, 'limits', { start: false });
      try {
        late.add('* * * * * *', () => {}, { name: 'limited', maxRuns: 3 });
        await late.synced();
        expect(late.job('limited')).toMatchObject({ done: true, runs: 3 });
        expect((await late.schedules()).map((s) => s.name)).not.toContain('limited');
      } finally {
        await late.kill();
      }
    } finally {
      await Promise.all(nodes.map((tab) => tab.kill()));
    }
  });
});

describe('ClusterCronTab: catchUp after downtime', () => {
  it("runs the latest missed slot once with 'once' and none with 'skip', counting the missed slots", async () => {
    const outcome = async (catchUp: 'once' | 'skip') => {
      const runs: SeenRun[] = [];
      const queueName = `catchup-${catchUp}`;
      const first = testTab(redis.connection, queueName, { name: `${queueName}-first` });
      first.add('* * * * * *', recorder(runs, 'first'), { name: 'tick', catchUp });
      await first.synced();
      await waitUntil(() => runs.length >= 1, 10_000, 'a first run');
      // Every node goes away; BullMQ keeps the next slot job, due while nobody runs.
      await first.kill();
      const downAt = Date.now();
      await realDelay(3_200);
      const second = testTab(redis.connection, queueName, { name: `${queueName}-second` });
      try {
        const restartedAt = Date.now();
        second.add('* * * * * *', recorder(runs, 'second'), { name: 'tick', catchUp });
        await second.synced();
        await waitUntil(
          () => runs.filter((run) => run.node === 'second').length >= 2,
          10_000,
          'runs on the second node',
        );
        const later = runs.filter((run) => run.node === 'second');
        return { later, downAt, restartedAt, missed: totalOf([second], 'missed') };
      } finally {
        await second.kill();
      }
    };
    const [once, skip] = await Promise.all([outcome('once'), outcome('skip')]);

    // 'once': the first run on the new node is the latest missed slot, as a catch-up.
    expect(once.later[0]).toMatchObject({ trigger: 'catch-up' });
    expect(once.later[0]!.scheduledAt).toBeGreaterThan(once.downAt + 1_000);
    expect(once.later[1]!.scheduledAt).toBeGreaterThan(once.later[0]!.scheduledAt);
    expect(once.later.slice(1).every((run) => run.trigger === 'schedule')).toBe(true);
    expect(once.missed).toBeGreaterThanOrEqual(2);
    // 'skip': nothing runs for the missed slots; they are all counted.
    expect(skip.later.every((run) => run.trigger === 'schedule')).toBe(true);
    expect(skip.later[0]!.scheduledAt).toBeGreaterThan(skip.restartedAt - 1_000);
    expect(skip.missed).toBeGreaterThanOrEqual(3);
  });
});
