import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import { until } from './fixtures/clusterWorkerSupport.js';
import { type ChildNode, startChildNode } from './support/childNode.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();

type ChildHandlers = { work: (n: number) => Promise<number> };

describe('ClusterWorkerProcess across 2 node processes, one SIGKILLed mid-run', () => {
  it('settles 1,000 requests exactly once; only the killed node’s started requests run twice', async () => {
    const queueName = 'failover';
    const children: ChildNode[] = ['a', 'b'].map((name) =>
      startChildNode(new URL('./fixtures/clusterWorkerChild.ts', import.meta.url), [
        String(redis.server.port),
        queueName,
        name,
      ]),
    );
    const client = new ClusterWorkerProcess<ChildHandlers>({
      connection: redis.connection,
      queueName,
      registry: false,
    });
    const reader = new Redis(redis.connection);
    try {
      await Promise.all(
        children.map((c) => c.waitFor((m) => (m as { type?: string }).type === 'ready', 30_000)),
      );
      const N = 1_000;
      const settled = new Map<number, number>();
      const values = new Map<number, unknown>();
      for (let i = 0; i < N; i++) {
        client.send(`key/${i % 50}`, 'work', i, (error, value) => {
          settled.set(i, (settled.get(i) ?? 0) + 1);
          values.set(i, error ?? value);
        });
      }
      // Kill node a once a third of the requests started: it has requests in flight.
      await until(async () => (await reader.llen(`${queueName}:runs`)) >= 300, '300 runs', 30_000);
      const killed = children[0]!;
      await killed.kill();
      const runsAtKill = (await reader.lrange(`${queueName}:runs`, 0, -1)).map(parse);
      await until(() => settled.size === N, 'every request settled', 45_000);

      // Every request settled exactly once, with its result.
      expect([...settled.values()].every((n) => n === 1)).toBe(true);
      for (let i = 0; i < N; i++) expect(values.get(i)).toBe(i * 2);
      expect(client.inFlight).toBe(0);

      // Deliveries: once per request, twice only for requests node a had started.
      const runs = (await reader.lrange(`${queueName}:runs`, 0, -1)).map(parse);
      const byId = new Map<string, Run[]>();
      for (const r of runs) byId.set(r.id, [...(byId.get(r.id) ?? []), r]);
      expect(byId.size).toBe(N);
      const startedByA = new Set(runsAtKill.filter((r) => r.node === 'a').map((r) => r.id));
      const twice = [...byId].filter(([, rs]) => rs.length > 1);
      for (const [id, rs] of twice) {
        expect(rs).toHaveLength(2);
        expect(startedByA.has(id)).toBe(true);
        expect(rs.map((r) => `${r.node}#${r.attempt}`)).toEqual(['a#1', 'b#2']);
      }
      // The kill did interrupt work in flight, and both nodes took part.
      expect(twice.length).toBeGreaterThan(0);
      expect(runs.filter((r) => r.node === 'a').length).toBeGreaterThan(0);
      expect(runs.filter((r) => r.node === 'b').length).toBeGreaterThan(N / 3);
      // The side effect, deduped on ctx.id, happened once per request.
      expect(Number(await reader.get(`${queueName}:total`))).toBe((N * (N - 1)) / 2);
    } finally {
      reader.disconnect();
      await client.kill();
      await Promise.all(children.map((c) => c.kill()));
    }
  });
});

interface Run {
  readonly id: string;
  readonly node: string;
  readonly attempt: number;
}

function parse(line: string): Run {
  const [id, node, attempt] = line.split('|');
  return { id: id!, node: node!, attempt: Number(attempt) };
}
