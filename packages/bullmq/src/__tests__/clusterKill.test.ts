import { afterEach, expect, it, vi } from 'vitest';
import { ClusterCronTab } from '../clusterCronTab.js';
import { ClusterThreadDict } from '../clusterThreadDict.js';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import { startRedisServer } from '../testing/redisServer.js';

afterEach(() => {
  vi.restoreAllMocks();
});

it('kills every cluster component within seconds while Redis is down, printing nothing', async () => {
  const redis = await startRedisServer();
  const connection = { host: redis.host, port: redis.port };
  const handlers = { echo: (x: number) => x };
  const crontab = new ClusterCronTab({ connection, registry: false });
  crontab.add('0 0 1 1 *', () => undefined, { name: 'yearly' });
  const node = new ClusterWorkerNode({ connection, handlers, registry: false });
  const client = new ClusterWorkerProcess<typeof handlers>({ connection, registry: false });
  const dict = new ClusterThreadDict<number>({
    connection,
    name: 'kill',
    read: () => 1,
    periodMs: 100,
    leaseMs: 2_000,
    registry: false,
  });
  dict.append('sys/a/value');
  await crontab.synced();
  await dict.synced();
  expect(await client.send('k', 'echo', 7)).toBe(7);

  const printed: unknown[] = [];
  for (const method of ['error', 'warn', 'log'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      printed.push(args);
    });
  }
  await redis.stop();
  // Let every connection notice the outage and try to reconnect a few times.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const started = Date.now();
  const kills = Promise.all([crontab.kill(), node.kill(), client.kill(), dict.kill()]);
  const outcome = await Promise.race([
    kills.then(() => 'killed'),
    new Promise((resolve) => setTimeout(() => resolve('hung'), 15_000)),
  ]);
  expect(outcome).toBe('killed');
  expect(Date.now() - started).toBeLessThan(10_000);
  expect(printed).toEqual([]);
  expect([crontab.state, node.state, client.state, dict.state]).toEqual([
    'killed',
    'killed',
    'killed',
    'killed',
  ]);
}, 30_000);
