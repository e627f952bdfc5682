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
import { startChildNode } from './support/childNode.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

interface Started {
  type: 'started';
  jobId: string;
  scheduledAt: number;
  attempt: number;
}

function isStarted(message: unknown): message is Started {
  return (message as { type?: unknown }).type === 'started';
}

describe('ClusterCronTab: a node killed mid-run', () => {
  it('redelivers the slot to a survivor with the same jobId and attempt 2, and later slots keep running', {
    timeout: 60_000,
  }, async () => {
    const queueName = 'killed';
    const child = startChildNode(new URL('./fixtures/clusterCronNode.ts', import.meta.url), [
      String(redis.server.port),
      queueName,
    ]);
    const runs: SeenRun[] = [];
    let survivors: ClusterCronTab[] = [];
    try {
      // The child alone owns the schedule at first, so it takes the first slot.
      const started = (await child.waitFor(isStarted, 30_000)) as Started;
      expect(started.attempt).toBe(1);
      survivors = ['a', 'b'].map((node) => {
        const tab = testTab(redis.connection, queueName, {
          name: `survivor-${node}`,
          lockDurationMs: 2_000,
          stalledIntervalMs: 500,
        });
        tab.add('* * * * * *', recorder(runs, node), { name: 'tick' });
        return tab;
      });
      await Promise.all(survivors.map((tab) => tab.synced()));
      await realDelay(1_200);
      // While the child runs its slot, later slots overlap it: skipped (overrun 'skip'),
      // on whichever node takes them.
      expect(runs).toEqual([]);
      const killedAt = Date.now();
      await child.kill();

      // BullMQ sees the child's lock expire (lockDurationMs) and its stall
      // checker (stalledIntervalMs) hands the slot to a survivor.
      await waitUntil(
        () => runs.some((run) => run.jobId === started.jobId),
        15_000,
        'the redelivered slot',
      );
      const redelivered = runs.filter((run) => run.jobId === started.jobId);
      expect(redelivered).toHaveLength(1);
      expect(redelivered[0]).toMatchObject({
        scheduledAt: started.scheduledAt,
        attempt: 2,
        trigger: 'schedule',
      });
      expect(redelivered[0]!.startedAt - killedAt).toBeLessThan(10_000);

      // Later slots run on the survivors, each once.
      await waitUntil(
        () => runs.filter((run) => run.scheduledAt > redelivered[0]!.startedAt).length >= 3,
        10_000,
        'three later slots',
      );
      const slots = runs.map((run) => run.scheduledAt);
      expect(new Set(slots).size).toBe(slots.length);
      expect(runs.filter((run) => run.jobId !== started.jobId).every((r) => r.attempt === 1)).toBe(
        true,
      );
    } finally {
      await child.kill();
      await Promise.all(survivors.map((tab) => tab.kill()));
    }
  });
});

describe('ClusterCronTab: Redis restarted empty', () => {
  it('puts the schedules, pause flags and run counts back without restarting the nodes', {
    timeout: 60_000,
  }, async () => {
    const queueName = 'restart';
    const runs: SeenRun[] = [];
    const nodes = ['a', 'b'].map((node) => {
      const tab = testTab(redis.connection, queueName, { name: `node-${node}`, reconcileMs: 250 });
      tab.add('* * * * * *', recorder(runs, node), { name: 'tick' });
      tab.add('* * * * * *', recorder(runs, node), { name: 'held' });
      return tab;
    });
    try {
      await Promise.all(nodes.map((tab) => tab.synced()));
      await nodes[0]!.pause('held');
      await waitUntil(
        () => runs.filter((run) => run.job === 'tick').length >= 2,
        10_000,
        'two runs before the restart',
      );
      // Both nodes have read the pause flag and the run count.
      await waitUntil(
        () => nodes[1]!.job('held').paused && nodes[1]!.job('tick').runs >= 2,
        5_000,
        'node b to see the state',
      );
      const heldBefore = runs.filter((run) => run.job === 'held').length;

      await redis.server.restart();
      const restartedAt = Date.now();
      await waitUntil(
        () => runs.some((run) => run.job === 'tick' && run.scheduledAt > restartedAt),
        20_000,
        'a run after the restart',
      );
      const names = (await nodes[0]!.schedules()).map((s) => s.name).sort();
      expect(names).toEqual(['held', 'tick']);
      // The pause flag came back: 'held' did not run after the restart either.
      await realDelay(1_500);
      expect(runs.filter((run) => run.job === 'held').length).toBe(heldBefore);
      expect(nodes.every((tab) => tab.job('held').paused)).toBe(true);
      expect(totalOf(nodes, 'skipped', 'held')).toBeGreaterThanOrEqual(1);
      // Counts continue from what the nodes had read, not from zero.
      const tickRuns = runs.filter((run) => run.job === 'tick').length;
      await waitUntil(
        () => nodes.every((tab) => tab.job('tick').runs >= tickRuns),
        5_000,
        'run counts restored',
      );
      const slots = runs.filter((run) => run.job === 'tick').map((run) => run.scheduledAt);
      expect(new Set(slots).size).toBe(slots.length);
    } finally {
      await Promise.all(nodes.map((tab) => tab.kill()));
    }
  });
});
