import {
  ConfigError,
  KeyNotFoundError,
  StoppedError,
  TimeoutError,
  WorkerCrashedError,
} from '@tickwork/core';
import { Queue, QueueEvents } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

const runs = new Map<string, number>();

function makeHandlers(node: string) {
  return {
    double(n: number, ctx: { id: string }) {
      runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
      return { n: n * 2, node };
    },
    bad(path: string): never {
      throw new ConfigError(`Demo: ${path} is wrong`, path);
    },
    async slow(ms: number) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    },
  };
}
type Handlers = ReturnType<typeof makeHandlers>;

describe('ClusterWorkerProcess over 2 nodes', () => {
  it('settles 200 requests exactly once with the right results, errors typed', async () => {
    const queueName = 'requests';
    const nodes = ['a', 'b'].map(
      (node) =>
        new ClusterWorkerNode({
          connection: redis.connection,
          queueName,
          name: `node-${node}`,
          handlers: makeHandlers(node),
          registry: false,
        }),
    );
    const client = new ClusterWorkerProcess<Handlers>({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    try {
      const settled = new Map<number, number>();
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          client.send(`key/${i % 10}`, 'double', i).then((value) => {
            settled.set(i, (settled.get(i) ?? 0) + 1);
            return value;
          }),
        ),
      );
      expect(results.map((r) => r.n)).toEqual(Array.from({ length: 200 }, (_, i) => i * 2));
      expect([...settled.values()].every((n) => n === 1)).toBe(true);
      expect(settled.size).toBe(200);
      expect([...runs.values()].every((n) => n === 1)).toBe(true);
      const perNode = nodes.map((n) => n.diagnostics().stats.count);
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(200);
      expect(client.inFlight).toBe(0);
      expect(client.diagnostics().stats.count).toBe(200);

      // A handler error keeps its class, code and own properties.
      const error = await client.command('bad', 'options.x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({ code: 'ERR_CONFIG', path: 'options.x' });

      // A retried request id runs once and both calls get its outcome.
      const [first, again] = await Promise.all([
        client.send('k', 'double', 21, { requestId: 'req-42' }),
        client.send('k', 'double', 21, { requestId: 'req-42' }),
      ]);
      expect(first).toEqual(again);
      const later = await client.send('k', 'double', 21, { requestId: 'req-42' });
      expect(later).toEqual(first);
      expect(runs.get('req-42')).toBe(1);

      // A timeout rejects the caller with TimeoutError.
      await expect(client.command('slow', 500, { timeoutMs: 50 })).rejects.toBeInstanceOf(
        TimeoutError,
      );
    } finally {
      await client.kill();
      await Promise.all(nodes.map((n) => n.kill()));
    }
  });

  it('reads the result when the event was missed (job finished before the client listened)', async () => {
    const queueName = 'missed';
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName,
      handlers: makeHandlers('solo'),
      registry: false,
    });
    const raw = new Queue(queueName, { connection: redis.connection });
    const events = new QueueEvents(queueName, {
      connection: { ...redis.connection, maxRetriesPerRequest: null },
    });
    try {
      await events.waitUntilReady();
      const job = await raw.add('double', { key: 'k', args: 5 }, { jobId: 'early-1' });
      await job.waitUntilFinished(events, 5_000);
      const client = new ClusterWorkerProcess<Handlers>({
        connection: redis.connection,
        queueName,
        registry: false,
      });
      try {
        // No new job and no event: the fallback read settles it.
        expect(await client.send('k', 'double', 5, { requestId: 'early-1' })).toEqual({
          n: 10,
          node: 'solo',
        });
        expect(runs.get('early-1')).toBe(1);
      } finally {
        await client.kill();
      }
    } finally {
      await events.close();
      await raw.close();
      await node.kill();
    }
  });

  it('types bad input and settles in-flight requests on kill', async () => {
    expect(() => new ClusterWorkerProcess({} as { connection: typeof redis.connection })).toThrow(
      ConfigError,
    );
    expect(
      () =>
        new ClusterWorkerNode({
          connection: redis.connection,
          handlers: { x: 'no' as unknown as () => void },
          registry: false,
        }),
    ).toThrow(/options.handlers.x/);
    expect(() => new ClusterWorkerNode({ connection: redis.connection } as never)).toThrow(
      /options.handlers is required/,
    );

    const client = new ClusterWorkerProcess<Handlers>({
      connection: redis.connection,
      queueName: 'nobody',
      registry: false,
    });
    expect(() => client.send('', 'double', 1)).toThrow(ConfigError);
    expect(() => client.send('k', 'double', 1, { requestId: 'a:b' })).toThrow(ConfigError);
    expect(() => client.send('k', 'double', 1, { requestId: '123' })).toThrow(ConfigError);
    // Nobody serves this queue: the request waits until kill settles it.
    const orphan = client.send('k', 'double', 1).catch((e: unknown) => e);
    await client.kill();
    expect(await orphan).toBeInstanceOf(StoppedError);
    await expect(client.send('k', 'double', 1)).rejects.toBeInstanceOf(StoppedError);
  });

  it('fails a request for a target no node has, and one whose result is not JSON', async () => {
    const node = new ClusterWorkerNode({
      connection: redis.connection,
      queueName: 'unknown-target',
      handlers: { ...makeHandlers('solo'), big: () => 10n },
      registry: false,
    });
    const client = new ClusterWorkerProcess<
      ReturnType<typeof makeHandlers> & { nope: () => 1; big: () => bigint }
    >({
      connection: redis.connection,
      queueName: 'unknown-target',
      registry: false,
    });
    try {
      const error = await client.command('nope', undefined as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(KeyNotFoundError);
      expect((error as Error).message).toMatch(/no handler named "nope"/);
      // BullMQ cannot store a BigInt: the job fails in BullMQ, not in the handler.
      await expect(client.send('k', 'big', undefined as never)).rejects.toBeInstanceOf(
        WorkerCrashedError,
      );
    } finally {
      await client.kill();
      await node.kill();
    }
  });
});
