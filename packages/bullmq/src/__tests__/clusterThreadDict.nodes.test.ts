import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterThreadDict } from '../clusterThreadDict.js';
import { type ChildNode, startChildNode } from './support/childNode.js';
import { useRedisServer } from './support/useRedisServer.js';
import { realDelay, waitUntil } from './support/waitUntil.js';

// Two polling nodes on one Redis: this process (A) and a forked one (B) that
// the last test SIGKILLs. Real time throughout: a few lease windows of 2 s.

const redis = useRedisServer();

describe('ClusterThreadDict: two polling nodes', () => {
  const name = 'pair';
  const shards = 8;
  const leaseMs = 2000;
  const periodMs = 100;
  const keyCount = 120;
  const keys = Array.from({ length: keyCount }, (_, i) => `k${i}`);
  let generation = 1;
  let reads = new Map<string, number>();
  let nodeA: ClusterThreadDict<string>;
  let child: ChildNode;
  let snapshotId = 0;

  interface Snapshot {
    held: number[];
    slots: number[];
    values: Record<string, [string | null, number | null]>;
    fresh: number;
    reads: number;
  }

  async function snapshotB(): Promise<Snapshot> {
    const id = ++snapshotId;
    child.send({ cmd: 'snapshot', id });
    const reply = await child.waitFor(
      (m) =>
        (m as { type?: string; id?: number }).type === 'snapshot' &&
        (m as { id: number }).id === id,
      10_000,
    );
    return reply as Snapshot;
  }

  function freshOnA(): number {
    let fresh = 0;
    for (const key of keys) {
      try {
        nodeA.get(key);
        fresh++;
      } catch {
        // counted as not fresh
      }
    }
    return fresh;
  }

  const heldOnA = (): number[] => nodeA.shards().flatMap((s) => (s.held ? [s.shard] : []));

  beforeAll(async () => {
    nodeA = new ClusterThreadDict<string>({
      connection: redis.connection,
      name,
      nodeId: 'A',
      shards,
      leaseMs,
      periodMs,
      read: (key) => {
        reads.set(key, (reads.get(key) ?? 0) + 1);
        return `${key}@${generation}`;
      },
      registry: false,
    });
    for (const key of keys) nodeA.append(key);
    child = startChildNode(new URL('./fixtures/clusterThreadDictNode.ts', import.meta.url), [
      String(redis.server.port),
      name,
      'B',
      String(shards),
      String(leaseMs),
      String(keyCount),
      String(periodMs),
    ]);
    await Promise.all([
      nodeA.synced(),
      child.waitFor((m) => (m as { type?: string }).type === 'ready'),
    ]);
  });

  afterAll(async () => {
    await child?.kill();
    await nodeA?.kill();
  });

  it('polls every key about once a period between them, and both nodes get the same values', async () => {
    // Both nodes race for each window: within a few windows both poll.
    await waitUntil(
      async () => heldOnA().length > 0 && (await snapshotB()).held.length > 0,
      4 * leaseMs,
      'both nodes hold shards',
    );
    reads = new Map();
    const before = (await snapshotB()).reads;
    const windowMs = 3000;
    await realDelay(windowMs);
    const readsB = (await snapshotB()).reads - before;
    const readsA = [...reads.values()].reduce((a, b) => a + b, 0);
    const expected = (keyCount * windowMs) / periodMs;
    expect(readsA).toBeGreaterThan(0);
    expect(readsB).toBeGreaterThan(0);
    // Every key polled; handovers re-read a key at most once per window.
    expect(readsA + readsB).toBeGreaterThan(expected * 0.6);
    expect(readsA + readsB).toBeLessThan(expected * 1.25);

    generation = 2;
    child.send({ cmd: 'generation', generation: 2 });
    await waitUntil(
      async () => {
        const b = await snapshotB();
        return (
          b.fresh === keyCount &&
          freshOnA() === keyCount &&
          keys.every((key) => nodeA.get(key) === `${key}@2` && b.values[key]![0] === `${key}@2`)
        );
      },
      5000,
      'generation 2 everywhere',
    );
    const b = await snapshotB();
    for (const key of keys) {
      const a = nodeA.entry(key);
      expect(b.values[key]![0]).toBe(a.value);
      // The same sample, or one refresh apart.
      expect(Math.abs((b.values[key]![1] ?? 0) - (a.sampledAt ?? 0))).toBeLessThan(1000);
    }
  });

  it('recovers from a Redis restart without restarting the nodes', async () => {
    const restartedAt = Date.now();
    await redis.server.restart();
    const queue = new Queue(`tickwork-poll-${name}`, { connection: redis.connection });
    const raw = new Redis(redis.connection);
    try {
      // Every shard held again under a window BullMQ scheduled after the
      // restart: the schedulers were re-created and their jobs taken.
      const tookMs = await waitUntil(
        async () => {
          const b = await snapshotB();
          const slots = [
            ...nodeA.shards().flatMap((s) => (s.held ? [s.slot ?? 0] : [])),
            ...b.slots,
          ];
          return slots.length === shards && slots.every((slot) => slot >= restartedAt);
        },
        15_000,
        'every shard held under a new window',
      );
      expect(tookMs).toBeLessThan(15_000);
      expect((await queue.getJobSchedulers()).length).toBe(shards);
      // Values published again through the new Redis reach both nodes.
      const backAt = Date.now();
      await waitUntil(
        async () => {
          const b = await snapshotB();
          return (
            freshOnA() === keyCount &&
            b.fresh === keyCount &&
            keys.every((key) => (nodeA.entry(key).sampledAt ?? 0) > backAt) &&
            keys.every((key) => (b.values[key]![1] ?? 0) > backAt)
          );
        },
        5000,
        'values fresh on both nodes',
      );
      expect(await raw.get(`bull:tickwork-poll-${name}:v:"k0"`)).toMatch(/^\d+\|"k0@2"$/);
    } finally {
      await queue.close();
      await raw.quit();
    }
  });

  it("moves a killed node's shards to the other within one window", async () => {
    await waitUntil(
      async () => (await snapshotB()).held.length > 0,
      4 * leaseMs,
      'B holds a shard',
    );
    const killedAt = Date.now();
    await child.kill();
    const moveMs = await waitUntil(() => heldOnA().length === shards, 4 * leaseMs, 'A holds all');
    // The next slot of each shard is at most one window away (BullMQ made its
    // job when the dead node took the current one); stall detection is the
    // fallback. Allow for pickup latency on a loaded machine.
    expect(moveMs).toBeLessThan(leaseMs + 1500);
    generation = 3;
    // Until A has polled a key of a moved shard, B's last value of it has
    // expired and get() throws: that is "not yet", not a failure.
    await waitUntil(
      () => freshOnA() === keyCount && keys.every((key) => nodeA.get(key) === `${key}@3`),
      leaseMs,
      'every key polled by A alone',
    );
    expect(Date.now() - killedAt).toBeLessThan(3 * leaseMs);
  });
});
