import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisServer, startRedisServer } from '@tickwork/bullmq/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ClusterDeviceServer } from '../clusterDeviceServer.js';
import { startDeviceServer } from '../deviceServer.js';

// Two device servers in cluster mode on one real redis-server, in real time:
// the shards of the plant split between them, every value on both, one
// snapshot per slot across both, analyses run, and nothing left at the end.

let redis: RedisServer;
let dir: string;

beforeAll(async () => {
  redis = await startRedisServer();
  dir = mkdtempSync(join(tmpdir(), 'tickwork-cluster-demo-test-'));
});

afterAll(async () => {
  await redis?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Polls `condition` every 100 ms until it holds; fails saying `what` after `timeoutMs`. */
async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: () => string,
): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** `INFO clients` over a raw socket: the number of clients Redis has (this one included). */
function connectedClients(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2_000, () => {
      socket.destroy();
      reject(new Error('INFO clients: no answer'));
    });
    socket.once('error', reject);
    socket.once('connect', () => socket.write('INFO clients\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      const m = /connected_clients:(\d+)/.exec(reply);
      if (m !== null) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
  });
}

const heldShards = (s: ClusterDeviceServer): number[] =>
  s.dict
    .shards()
    .filter((i) => i.held)
    .map((i) => i.shard);

/** Keys without a fresh value on `s` (`get` would throw). */
function staleKeys(s: ClusterDeviceServer): string[] {
  return s.dict.keys().filter((key) => {
    try {
      s.dict.get(key);
      return false;
    } catch {
      return true;
    }
  });
}

it('two cluster-mode servers share the polling, the snapshot job and the analyses through Redis', async () => {
  const common = {
    redis: { host: redis.host, port: redis.port },
    leaseMs: 2_000,
    snapshotCron: '* * * * * *',
    snapshotDir: dir,
    summaryEveryMs: 0,
    // No faults: every attribute must have a fresh value at once on both.
    faultRate: 0,
    hangRate: 0,
    print: () => {},
  };
  const a = await startDeviceServer({ ...common, nodeId: 'node-a', port: 0 });
  // The same port as a's: b's dashboard moves to one of the next ports.
  const b = await startDeviceServer({ ...common, nodeId: 'node-b', port: a.server.port });
  const started = Date.now();
  try {
    expect(a.mode).toBe('cluster');
    expect(b.server.port).toBeGreaterThan(a.server.port);
    expect(b.server.port).toBeLessThanOrEqual(a.server.port + 10);
    const keys = a.plant.attributes();
    expect(keys).toHaveLength(262);
    expect(b.dict.keys().sort()).toEqual([...keys].sort());

    // Every attribute has a fresh value on both, whichever process polls it.
    await waitUntil(
      () => staleKeys(a).length === 0 && staleKeys(b).length === 0,
      10_000,
      () => `stale on a: ${staleKeys(a).slice(0, 5)}; on b: ${staleKeys(b).slice(0, 5)}`,
    );
    for (const s of [a, b]) {
      const waveform = s.dict.get('sys/scope/1/waveform');
      expect(Array.isArray(waveform) && waveform.length).toBe(1_000);
      expect(s.dict.entry('sys/ps/2/state')).toMatchObject({ value: 'ON', stale: false });
    }
    // The two plants are separate copies with their own noise: equal pressures
    // on both mean each value was read once and shared through Redis.
    const pressures = keys.filter((k) => k.endsWith('/pressure'));
    await waitUntil(
      () => pressures.every((k) => a.dict.get(k, { allowStale: true }) === b.dict.get(k)),
      10_000,
      () => `pressures differ: ${pressures.filter((k) => a.dict.get(k) !== b.dict.get(k))}`,
    );

    // The 16 shards split between the two: each holds some, together all, none twice.
    await waitUntil(
      () => {
        const onA = heldShards(a);
        const onB = heldShards(b);
        const all = new Set([...onA, ...onB]);
        return (
          onA.length > 0 && onB.length > 0 && all.size === 16 && onA.length + onB.length === 16
        );
      },
      20_000,
      () => `a holds ${heldShards(a)}, b holds ${heldShards(b)}`,
    );
    expect(a.report().polls).toBeGreaterThan(0);
    expect(b.report().polls).toBeGreaterThan(0);

    // Waveforms analysed in the pools, each by the process that polled it.
    const completed = (): number => a.report().requests.completed + b.report().requests.completed;
    await waitUntil(
      () => completed() >= 3,
      15_000,
      () => `${completed()} analyses completed`,
    );
    const ranHere = a.report().cluster.analysesRunHere + b.report().cluster.analysesRunHere;
    expect(ranHere).toBeGreaterThanOrEqual(completed());
    expect([...a.analysis.values(), ...b.analysis.values()][0]).toMatchObject({ samples: 1_000 });
    for (const s of [a, b]) {
      // Only waveforms read here are sent from here (none of those mirrored from the other).
      const r = s.report().requests;
      const sent = r.completed + r.failed + r.canceled + r.timedOut + s.client.inFlight;
      expect(sent).toBeLessThanOrEqual(s.report().cluster.waveformsPolled);
    }

    // At least 6 s of cron slots since the start.
    const left = 7_000 - (Date.now() - started);
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    const ran = [...a.snapshots, ...b.snapshots].sort((x, y) => x - y);
    expect(ran.length).toBeGreaterThanOrEqual(5);
    expect(new Set(ran).size).toBe(ran.length); // no slot twice
    for (let i = 1; i < ran.length; i++) expect(ran[i]! - ran[i - 1]!).toBe(1_000); // none missed
    expect(a.snapshots.length + b.snapshots.length).toBe(ran.length);
    const file = join(dir, 'tickwork-snapshot.json');
    expect(existsSync(file)).toBe(true);
    const written = JSON.parse(readFileSync(file, 'utf8')) as {
      components: { kind: string; name: string }[];
    };
    expect(written.components.map((c) => c.kind)).toContain('ClusterThreadDict');

    // Each process's dashboard shows its cluster components.
    const snap = (await (await fetch(`${b.server.url}diagnostics`)).json()) as {
      components: { kind: string; name: string; items?: unknown[] }[];
    };
    expect(snap.components.map((c) => `${c.kind}:${c.name}`).sort()).toEqual(
      [
        'ClusterCronTab:snapshots',
        'ClusterThreadDict:plant',
        'ClusterWorkerNode:analysis-node',
        'ClusterWorkerProcess:analysis',
        'WorkerProcess:analysis-pool',
      ].sort(),
    );
    expect(snap.components.find((c) => c.name === 'plant')?.items).toHaveLength(16);
    const metrics = await (await fetch(`${a.server.url}metrics`)).text();
    expect(metrics).toMatch(/component="plant"/);
    expect(a.summary()).toMatch(/shards \d+\/16 here · polls \d+ .* values \d+\/262 fresh/);
  } finally {
    const [ra, rb] = await Promise.all([a.shutdown(), b.shutdown()]);
    expect(ra.components).toBe(0);
    expect(rb.components).toBe(0);
  }
  // Every Redis connection of both is closed: only the one asking is left.
  let clients = Number.NaN;
  await waitUntil(
    async () => {
      clients = await connectedClients(redis.port);
      return clients === 1;
    },
    5_000,
    () => `${clients} clients still connected`,
  );
}, 45_000);
