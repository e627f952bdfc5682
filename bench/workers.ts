/**
 * bench/workers: `WorkerProcess.send` side by side with raw `piscina.run` on
 * the same trivial handler (`echo`), 2 threads each, in one run:
 * - throughput: 20,000 requests sent at once, awaited together (requests/s,
 *   median and best of the rounds). WorkerProcess is measured through its
 *   promise API and through callbacks;
 * - serial round trip: one request at a time, awaited (p50/p99 latency).
 * Rounds of the implementations interleave, since the machine may be shared.
 * Target: >= 0.9x raw piscina throughput, <= +15 us round trip.
 *
 * This file is also the executor of both pools (worker threads import it;
 * `defineExecutor` only registers there, and nothing runs on import).
 * Run: `node --conditions=@tickwork/source --import tsx bench/workers.ts [--quick]`.
 * @module
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { RecordableHistogram } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { WorkerProcess } from '@tickwork/workers';
import { defineExecutor } from '@tickwork/workers/worker';
import { Piscina } from 'piscina';
import {
  collectGarbage,
  fmt,
  latencyHistogram,
  markdownTable,
  percentilesMs,
  quick,
  recordMs,
  writeResult,
} from './lib.js';

/** The trivial handler both sides run. */
export function echo(x: number): number {
  return x;
}

/** The executor of the WorkerProcess side. */
export const handlers = defineExecutor({ echo });

const THREADS = 2;
const BURST = 20_000;

/** One measured implementation. */
export interface WorkersRow {
  impl: string;
  /** Median of the rounds, requests/s. */
  throughputPerSec: number;
  /** Best round, requests/s. */
  bestThroughputPerSec: number;
  /** Median throughput / piscina's median throughput. */
  relativeThroughput: number;
  /** Best throughput / piscina's best throughput. */
  relativeBestThroughput: number;
  p50RoundTripUs: number;
  p99RoundTripUs: number;
  /** p50 round trip minus piscina's, us. */
  addedP50Us: number;
}

interface Impl {
  name: string;
  burst: (n: number) => Promise<void>;
  roundTrip: (i: number) => Promise<number>;
}

/** Node options for threads that load this TypeScript file (the same for both pools). */
function threadExecArgv(): string[] {
  const require = createRequire(join(process.cwd(), 'noop.js'));
  const api = pathToFileURL(require.resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return [
    '--conditions=@tickwork/source',
    '--import',
    `data:text/javascript,import{register}from${JSON.stringify(api)};register();`,
  ];
}

async function burstRate(impl: Impl): Promise<number> {
  collectGarbage();
  const t0 = performance.now();
  await impl.burst(BURST);
  return BURST / ((performance.now() - t0) / 1000);
}

async function roundTrips(impl: Impl, n: number, h: RecordableHistogram): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const v = await impl.roundTrip(i);
    recordMs(h, performance.now() - t0);
    if (v !== i) throw new Error(`bench/workers: ${impl.name} answered ${v} for ${i}`);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Runs the benchmark, prints a markdown table and writes bench/results/workers.json. */
export async function runWorkersBench(): Promise<WorkersRow[]> {
  const self = fileURLToPath(import.meta.url);
  const piscina = new Piscina<number, number>({
    filename: self,
    name: 'echo',
    minThreads: THREADS,
    maxThreads: THREADS,
    execArgv: threadExecArgv(),
    recordTiming: false,
  });
  const pool = new WorkerProcess<typeof handlers>({
    executor: self,
    minThreads: THREADS,
    maxThreads: THREADS,
    registry: false,
  });
  const impls: Impl[] = [
    {
      name: 'piscina.run',
      burst: async (n) => {
        const all: Promise<number>[] = [];
        for (let i = 0; i < n; i++) all.push(piscina.run(i));
        await Promise.all(all);
      },
      roundTrip: (i) => piscina.run(i),
    },
    {
      name: 'WorkerProcess.send (await)',
      burst: async (n) => {
        const all: PromiseLike<number>[] = [];
        for (let i = 0; i < n; i++) all.push(pool.send('k', 'echo', i));
        await Promise.all(all);
      },
      roundTrip: async (i) => pool.send('k', 'echo', i),
    },
    {
      name: 'WorkerProcess.send (callback)',
      burst: (n) =>
        new Promise<void>((resolve, reject) => {
          let left = n;
          const done = (error: Error | null): void => {
            if (error !== null) reject(error);
            else if (--left === 0) resolve();
          };
          for (let i = 0; i < n; i++) pool.send('k', 'echo', i, done);
        }),
      roundTrip: (i) =>
        new Promise<number>((resolve, reject) => {
          pool.send('k', 'echo', i, (error, v) => (error === null ? resolve(v!) : reject(error)));
        }),
    },
  ];

  const rounds = quick ? 3 : 11;
  const serial = quick ? 1_000 : 2_000;
  // Warm up threads, JIT and every code path before measuring.
  for (const impl of impls) {
    await impl.burst(quick ? 2_000 : 10_000);
    await roundTrips(impl, 1_000, latencyHistogram());
  }
  // Rounds interleave the implementations, so changes in the machine's load
  // (benchmarks share it) hit every side alike; medians and bests are kept.
  const rates = new Map<string, number[]>(impls.map((i) => [i.name, []]));
  const latency = new Map<string, RecordableHistogram>(
    impls.map((i) => [i.name, latencyHistogram()]),
  );
  for (let r = 0; r < rounds; r++) {
    for (const impl of impls) rates.get(impl.name)!.push(await burstRate(impl));
    for (const impl of impls) await roundTrips(impl, serial, latency.get(impl.name)!);
  }
  await pool.close();
  await piscina.destroy();

  const baseRates = rates.get('piscina.run')!;
  const baseP50 = percentilesMs(latency.get('piscina.run')!).p50 * 1000;
  const rows: WorkersRow[] = impls.map((impl) => {
    const r = rates.get(impl.name)!;
    const l = percentilesMs(latency.get(impl.name)!);
    return {
      impl: impl.name,
      throughputPerSec: Math.round(median(r)),
      bestThroughputPerSec: Math.round(Math.max(...r)),
      relativeThroughput: median(r) / median(baseRates),
      relativeBestThroughput: Math.max(...r) / Math.max(...baseRates),
      p50RoundTripUs: l.p50 * 1000,
      p99RoundTripUs: l.p99 * 1000,
      addedP50Us: l.p50 * 1000 - baseP50,
    };
  });
  console.log(
    `\n### workers: trivial handler, ${THREADS} threads; ${BURST} concurrent requests x ${rounds} rounds; ${rounds * serial} serial round trips (interleaved)\n`,
  );
  console.log(
    markdownTable(
      [
        'impl',
        'requests/s median (best)',
        'vs piscina median (best)',
        'p50 round trip us',
        'p99 round trip us',
        'added p50 us',
      ],
      rows.map((r) => [
        r.impl,
        `${r.throughputPerSec} (${r.bestThroughputPerSec})`,
        `${fmt(r.relativeThroughput)}x (${fmt(r.relativeBestThroughput)}x)`,
        fmt(r.p50RoundTripUs, 1),
        fmt(r.p99RoundTripUs, 1),
        fmt(r.addedP50Us, 1),
      ]),
    ),
  );
  console.log(`\nwrote ${writeResult('workers', rows)}`);
  return rows;
}

if (isMainThread && import.meta.url === `file://${process.argv[1]}`) await runWorkersBench();
