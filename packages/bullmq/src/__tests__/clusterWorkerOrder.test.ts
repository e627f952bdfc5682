import { ConfigError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import type { ClusterHandlerContext } from '../clusterRequest.js';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import { sleep, until } from './fixtures/clusterWorkerSupport.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

interface Run {
  readonly key: string;
  readonly seq: number;
  readonly node: string;
  readonly start: number;
  end: number;
}

function orderedHandlers(node: string, runs: Run[]) {
  return {
    async step(seq: number, ctx: ClusterHandlerContext) {
      const run: Run = { key: ctx.key, seq, node, start: performance.now(), end: Number.NaN };
      runs.push(run);
      // Uneven run times: without ordering, later requests of a key would overtake earlier ones.
      await sleep(seq % 3 === 0 ? 20 : 5);
      run.end = performance.now();
      return seq;
    },
  };
}

describe('ClusterWorkerProcess per-key ordering (partitions)', () => {
  it('runs the requests of each key one at a time in send order across 2 nodes', async () => {
    const queueName = 'ordered';
    const runs: Run[] = [];
    const nodes = ['a', 'b'].map(
      (name) =>
        new ClusterWorkerNode({
          connection: redis.connection,
          queueName,
          partitions: 4,
          name,
          handlers: orderedHandlers(name, runs),
          registry: false,
        }),
    );
    const client = new ClusterWorkerProcess<ReturnType<typeof orderedHandlers>>({
      connection: redis.connection,
      queueName,
      partitions: 4,
      registry: false,
    });
    try {
      await Promise.all(nodes.map((n) => n.ready()));
      const keys = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
      const perKey = 25;
      const handles = [];
      for (let seq = 0; seq < perKey; seq++) {
        for (const key of keys) handles.push(client.send(key, 'step', seq));
      }
      // BullMQ hands a worker that finishes a job the next one of its queue, so the node that
      // starts a backlog keeps it: pause one node midway to move the rest to the other.
      await until(() => runs.length >= 40, '40 runs');
      const first = runs[0]!.node;
      await nodes.find((n) => n.name === first)!.pause();
      await Promise.all(handles);
      expect(runs).toHaveLength(keys.length * perKey);
      for (const key of keys) {
        const mine = runs.filter((r) => r.key === key);
        // In send order...
        expect(mine.map((r) => r.seq)).toEqual(Array.from({ length: perKey }, (_, i) => i));
        // ...one at a time (each started after the previous ended)...
        for (let i = 1; i < mine.length; i++) {
          expect(mine[i]!.start).toBeGreaterThanOrEqual(mine[i - 1]!.end);
        }
      }
      // ...with both nodes taking part.
      expect(new Set(runs.map((r) => r.node))).toEqual(new Set(['a', 'b']));
      // Partitions run in parallel with each other: some runs of different keys overlap.
      const overlaps = runs.some((r) =>
        runs.some((o) => o.key !== r.key && o.start < r.end && r.start < o.end),
      );
      expect(overlaps).toBe(true);
      const sizes = client.diagnostics().detail?.['partitions'];
      expect(sizes).toBe(4);
    } finally {
      await client.kill();
      await Promise.all(nodes.map((n) => n.kill()));
    }
  });

  it('refuses a partition count that differs from the queue’s', async () => {
    const queueName = 'mismatch';
    const first = new ClusterWorkerProcess({
      connection: redis.connection,
      queueName,
      partitions: 2,
      registry: false,
    });
    // The first to reach Redis records its count.
    await first.send('k', 'x', undefined).sent;
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      partitions: 3,
      handlers: { x: () => 1 },
      registry: false,
    });
    const client = new ClusterWorkerProcess({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    try {
      await expect(node.ready()).rejects.toThrow(
        /options.partitions is 3 but queue "mismatch" uses 2/,
      );
      const error = await client.send('k', 'x', undefined).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).path).toBe('options.partitions');
    } finally {
      await Promise.all([first.kill(), node.kill(), client.kill()]);
    }
  });
});
