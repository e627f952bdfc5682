import type { OverrunPolicy } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import {
  recorder,
  type SeenRun,
  testTab,
  totalOf,
  waitUntil,
} from './fixtures/clusterCronHelpers.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

/** Two nodes run a 2.2 s task every second with `overrun`; resolves the runs and skips. */
async function overrunCase(overrun: OverrunPolicy) {
  const runs: SeenRun[] = [];
  const nodes = ['a', 'b'].map((node) => {
    const tab = testTab(redis.connection, `overrun-${overrun}`, { name: `${overrun}-${node}` });
    tab.add('* * * * * *', recorder(runs, node, 2_200), { name: 'slow', overrun });
    return tab;
  });
  try {
    await Promise.all(nodes.map((tab) => tab.synced()));
    await waitUntil(
      () => runs.filter((run) => run.finishedAt !== undefined).length >= 3,
      15_000,
      `three finished runs with overrun '${overrun}'`,
    );
    await Promise.all(nodes.map((tab) => tab.stop({ timeoutMs: 5_000 })));
    return { runs, skipped: totalOf(nodes, 'skipped'), nodes: new Set(runs.map((r) => r.node)) };
  } finally {
    await Promise.all(nodes.map((tab) => tab.kill()));
  }
}

/** Whether any two runs (on any nodes) overlapped in time. */
function overlaps(runs: readonly SeenRun[]): boolean {
  const sorted = [...runs].sort((x, y) => x.startedAt - y.startedAt);
  return sorted.some((run, i) => i > 0 && run.startedAt < (sorted[i - 1]!.finishedAt ?? Infinity));
}

describe('ClusterCronTab: overrun across the cluster', () => {
  it("'skip' never overlaps runs across nodes, 'queue' runs the next one right after, 'parallel' overlaps", async () => {
    const [skip, queue, parallel] = await Promise.all([
      overrunCase('skip'),
      overrunCase('queue'),
      overrunCase('parallel'),
    ]);

    // 'skip': one run at a time in the whole cluster; the slots in between are counted.
    expect(overlaps(skip.runs)).toBe(false);
    expect(skip.skipped).toBeGreaterThanOrEqual(2);
    for (const run of skip.runs) expect(run.startedAt - run.scheduledAt).toBeLessThan(1_000);

    // 'queue': one at a time, each queued slot starting as soon as the previous run ended.
    expect(overlaps(queue.runs)).toBe(false);
    const sorted = [...queue.runs].sort((x, y) => x.startedAt - y.startedAt);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.startedAt - sorted[i - 1]!.finishedAt!).toBeLessThan(700);
    }
    // A queued slot starts late (it waited); one queue place, so further slots are skipped.
    expect(sorted.slice(1).some((run) => run.startedAt - run.scheduledAt > 500)).toBe(true);
    expect(queue.skipped).toBeGreaterThanOrEqual(1);

    // 'parallel': runs overlap, nothing is skipped.
    expect(overlaps(parallel.runs)).toBe(true);
    expect(parallel.skipped).toBe(0);

    for (const outcome of [skip, queue, parallel]) {
      const slots = outcome.runs.map((run) => run.scheduledAt);
      expect(new Set(slots).size).toBe(slots.length);
    }
  });
});
