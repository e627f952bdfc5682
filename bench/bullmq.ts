/**
 * bench/bullmq: `ClusterWorkerProcess.send` to a `ClusterWorkerNode` side by
 * side with raw BullMQ (`Queue.add` + `Worker` + `job.waitUntilFinished`
 * through `QueueEvents`) on the same `redis-server` (started here on a free
 * loopback port), same trivial handler, in one process:
 * - serial round trip: one request at a time, awaited (p50/p99);
 * - throughput: 50 requests kept in flight, worker concurrency 50 (jobs/s).
 * Rounds of the two sides interleave, since the machine may be shared.
 * Target (issue 7): adapter overhead <= 10% (jobs/s and p50).
 *
 * Then polling: one `ClusterThreadDict` node holding every shard vs a plain
 * `ThreadDict`, 10,000 keys every 100 ms with a synchronous read, values
 * unchanged and values changing at every poll (each change published to
 * Redis): polls/s and CPU per poll. Target: >= 0.9x ThreadDict's polls/s.
 *
 * Run: `pnpm bench bullmq` (or `--quick`). Needs `redis-server` on the PATH.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { ClusterThreadDict, ClusterWorkerNode, ClusterWorkerProcess } from '@tickwork/bullmq';
import { startRedisServer } from '@tickwork/bullmq/testing';
import { ThreadDict } from '@tickwork/polling';
import { Queue, QueueEvents, Worker } from 'bullmq';
import {
  fmt,
  latencyHistogram,
  markdownTable,
  percentilesMs,
  preciseNow,
  quick,
  recordMs,
  writeResult,
} from './lib.js';

const CONCURRENCY = 50;

/** One side of the comparison. */
interface Side {
  readonly name: string;
  /** Sends one request for `x` and resolves with the handler's result. */
  request(x: number): Promise<number>;
  close(): Promise<void>;
}

/** One measured side. */
export interface BullmqRow {
  impl: string;
  /** Median of the rounds, jobs/s with 50 in flight. */
  jobsPerSec: number;
  /** Median jobs/s / raw BullMQ's median jobs/s. */
  relativeJobsPerSec: number;
  p50RoundTripMs: number;
  p99RoundTripMs: number;
  /** p50 round trip / raw BullMQ's p50. */
  relativeP50: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Raw BullMQ: what a user would write without tickwork. */
function rawSide(connection: { host: string; port: number }): Side {
  const queueName = 'bench-raw';
  const queue = new Queue(queueName, { connection });
  // waitUntilFinished adds a 'closing' listener per waiting job: 50 in flight.
  queue.setMaxListeners(0);
  const events = new QueueEvents(queueName, { connection: { ...connection } });
  const worker = new Worker(queueName, async (job) => job.data.x as number, {
    connection: { ...connection, maxRetriesPerRequest: null },
    concurrency: CONCURRENCY,
    removeOnComplete: { age: 600 },
  });
  return {
    name: 'raw BullMQ',
    async request(x) {
      const job = await queue.add('echo', { x }, { jobId: randomUUID() });
      return (await job.waitUntilFinished(events)) as number;
    },
    async close() {
      await worker.close();
      await events.close();
      await queue.close();
    },
  };
}

const handlers = { echo: (x: number) => x };

/** The tickwork adapter over the same Redis. */
function adapterSide(connection: { host: string; port: number }): Side {
  const node = new ClusterWorkerNode({
    connection,
    handlers,
    queueName: 'bench-tickwork',
    concurrency: CONCURRENCY,
    registry: false,
  });
  const client = new ClusterWorkerProcess<typeof handlers>({
    connection,
    queueName: 'bench-tickwork',
    registry: false,
  });
  return {
    name: 'ClusterWorkerProcess.send',
    request: (x) => client.send('k', 'echo', x).promise,
    async close() {
      await client.kill();
      await node.kill();
    },
  };
}

async function roundTrips(side: Side, n: number, h: ReturnType<typeof latencyHistogram>) {
  for (let i = 0; i < n; i++) {
    const start = preciseNow();
    const result = await side.request(i);
    if (result !== i) throw new Error(`${side.name}: got ${result} for ${i}`);
    recordMs(h, preciseNow() - start);
  }
}

/** `n` requests with `CONCURRENCY` in flight; returns jobs/s. */
async function throughput(side: Side, n: number): Promise<number> {
  let next = 0;
  const start = preciseNow();
  const lane = async (): Promise<void> => {
    while (next < n) {
      const x = next++;
      const result = await side.request(x);
      if (result !== x) throw new Error(`${side.name}: got ${result} for ${x}`);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
  return (n / (preciseNow() - start)) * 1000;
}

const POLL_KEYS = 10_000;
const POLL_PERIOD = 100;

/** One measured polling case. */
export interface PollRow {
  impl: 'ThreadDict' | 'ClusterThreadDict';
  values: 'unchanged' | 'changing';
  pollsPerSec: number;
  expectedPollsPerSec: number;
  /** polls/s / ThreadDict's polls/s on the same values. */
  relative: number;
  cpuUsPerPoll: number;
}

/** Polls/s and CPU per poll of a started poller over `seconds`. */
async function measurePolls(polls: () => number, seconds: number) {
  const p0 = polls();
  const c0 = process.cpuUsage();
  const t0 = preciseNow();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const c = process.cpuUsage(c0);
  const n = polls() - p0;
  return {
    pollsPerSec: (n / (preciseNow() - t0)) * 1000,
    cpuUsPerPoll: (c.user + c.system) / n,
  };
}

async function pollingCase(
  impl: PollRow['impl'],
  values: PollRow['values'],
  connection: { host: string; port: number },
  seconds: number,
): Promise<{ pollsPerSec: number; cpuUsPerPoll: number }> {
  let tick = 0;
  let reads = 0;
  const read = (): number => {
    reads++;
    return values === 'changing' ? ++tick : 42;
  };
  const keys = Array.from({ length: POLL_KEYS }, (_, i) => `sys/bench/${i}/value`);
  if (impl === 'ThreadDict') {
    const dict = new ThreadDict<number>({ read, periodMs: POLL_PERIOD, registry: false });
    for (const k of keys) dict.append(k);
    dict.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const m = await measurePolls(() => reads, seconds);
    await dict.kill();
    return m;
  }
  const dict = new ClusterThreadDict<number>({
    connection,
    name: `bench-${values}-${Date.now()}`,
    leaseMs: 10_000,
    read,
    periodMs: POLL_PERIOD,
    registry: false,
  });
  for (const k of keys) dict.append(k);
  await dict.synced();
  // Alone in the cluster, this node takes every shard's first window.
  const deadline = Date.now() + 15_000;
  while (!dict.shards().every((s) => s.held)) {
    if (Date.now() > deadline) throw new Error('ClusterThreadDict: shards not all held in 15 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const m = await measurePolls(() => reads, seconds);
  await dict.kill();
  return m;
}

/** Runs the polling comparison and prints its table. */
async function runPolling(connection: { host: string; port: number }): Promise<PollRow[]> {
  const seconds = quick ? 2 : 5;
  const rounds = quick ? 1 : 3;
  const rows: PollRow[] = [];
  for (const values of ['unchanged', 'changing'] as const) {
    const results = new Map<PollRow['impl'], { pollsPerSec: number[]; cpu: number[] }>();
    for (let r = 0; r < rounds; r++) {
      for (const impl of ['ThreadDict', 'ClusterThreadDict'] as const) {
        const m = await pollingCase(impl, values, connection, seconds);
        const acc = results.get(impl) ?? { pollsPerSec: [], cpu: [] };
        acc.pollsPerSec.push(m.pollsPerSec);
        acc.cpu.push(m.cpuUsPerPoll);
        results.set(impl, acc);
      }
    }
    const base = median(results.get('ThreadDict')!.pollsPerSec);
    for (const [impl, acc] of results) {
      const pps = median(acc.pollsPerSec);
      rows.push({
        impl,
        values,
        pollsPerSec: Math.round(pps),
        expectedPollsPerSec: (POLL_KEYS * 1000) / POLL_PERIOD,
        relative: pps / base,
        cpuUsPerPoll: median(acc.cpu),
      });
    }
  }
  console.log(
    `\nPolling across nodes (${POLL_KEYS} keys every ${POLL_PERIOD} ms, synchronous read, one node holding every shard, ${rounds} rounds of ${seconds} s, medians)\n`,
  );
  console.log(
    markdownTable(
      ['impl', 'values', 'polls/s (expected)', 'vs ThreadDict', 'CPU us/poll'],
      rows.map((r) => [
        r.impl,
        r.values,
        `${r.pollsPerSec} (${r.expectedPollsPerSec})`,
        `${fmt(r.relative)}x`,
        fmt(r.cpuUsPerPoll, 3),
      ]),
    ),
  );
  return rows;
}

/** Runs the request benchmark and prints its table. */
export async function runBullmqBench(): Promise<BullmqRow[]> {
  const redis = await startRedisServer();
  const connection = { host: redis.host, port: redis.port };
  const sides = [rawSide(connection), adapterSide(connection)];
  const rounds = quick ? 2 : 5;
  const serial = quick ? 100 : 400;
  const burst = quick ? 1_000 : 4_000;
  try {
    for (const side of sides) {
      await throughput(side, 500);
      await roundTrips(side, 100, latencyHistogram());
    }
    const rates = new Map(sides.map((s) => [s.name, [] as number[]]));
    const latency = new Map(sides.map((s) => [s.name, latencyHistogram()]));
    for (let r = 0; r < rounds; r++) {
      for (const side of sides) rates.get(side.name)!.push(await throughput(side, burst));
      for (const side of sides) await roundTrips(side, serial, latency.get(side.name)!);
    }
    const base = sides[0]!;
    const baseRate = median(rates.get(base.name)!);
    const baseP50 = percentilesMs(latency.get(base.name)!).p50;
    const rows: BullmqRow[] = sides.map((side) => {
      const l = percentilesMs(latency.get(side.name)!);
      const rate = median(rates.get(side.name)!);
      return {
        impl: side.name,
        jobsPerSec: Math.round(rate),
        relativeJobsPerSec: rate / baseRate,
        p50RoundTripMs: l.p50,
        p99RoundTripMs: l.p99,
        relativeP50: l.p50 / baseP50,
      };
    });
    console.log(
      `\nBullMQ requests (node ${process.version}, ${rounds} rounds of ${burst} jobs at concurrency ${CONCURRENCY} and ${serial} serial round trips, one redis-server on loopback)\n`,
    );
    console.log(
      markdownTable(
        ['impl', 'jobs/s (median)', 'vs raw', 'p50 ms', 'p99 ms', 'p50 vs raw'],
        rows.map((r) => [
          r.impl,
          r.jobsPerSec,
          `${fmt(r.relativeJobsPerSec)}x`,
          fmt(r.p50RoundTripMs, 3),
          fmt(r.p99RoundTripMs, 3),
          `${fmt(r.relativeP50)}x`,
        ]),
      ),
    );
    for (const side of sides) await side.close();
    sides.length = 0;
    const polling = await runPolling(connection);
    writeResult('bullmq', { rows, rates: Object.fromEntries(rates), polling });
    return rows;
  } finally {
    for (const side of sides) await side.close();
    await redis.stop();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runBullmqBench();
}
