/**
 * The cluster mode of the demo (`--redis <url>`): the same device server,
 * run by several processes that share the work through Redis.
 * @module
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClusterCronTab,
  ClusterThreadDict,
  ClusterWorkerNode,
  ClusterWorkerProcess,
  type RedisConnectionOptions,
} from '@tickwork/bullmq';
import { ConfigError, Registry, systemClock, TimeoutError } from '@tickwork/core';
import { type ReadFailure, readFailure } from '@tickwork/polling';
import type { WorkerProcess } from '@tickwork/workers';
import { clusterReport, clusterSummary } from './clusterSummary.js';
import type {
  DeviceServerBase,
  DeviceServerCommonOptions,
  DeviceServerReport,
} from './deviceServer.js';
import { deviceOf, periodOf } from './plantPolling.js';
import { redisLabel } from './redisUrl.js';
import { serveOnFreePort } from './serveOnFreePort.js';
import { analysisPool, shutdownOnce, summaryReporter } from './serverParts.js';
import { SimulatedPlant } from './simulatedPlant.js';
import { snapshotWriter } from './snapshotWriter.js';
import type { handlers, WaveformStats } from './waveformExecutor.js';

/** An attribute value as it crosses Redis: JSON, so a waveform is a plain array. */
export type JsonAttributeValue = number | boolean | string | number[];

/** Options of the cluster mode: those of both modes, plus Redis. */
export interface ClusterDeviceServerOptions extends DeviceServerCommonOptions {
  /** How to reach Redis (ioredis options; `parseRedisUrl` makes them from `--redis`). Required. */
  redis: RedisConnectionOptions;
  /** BullMQ key prefix: every process of one demo cluster uses the same. @defaultValue 'tickwork-demo' */
  prefix?: string;
  /** Shards of the polled attributes. @defaultValue 16 */
  shards?: number;
  /** Length of a shard lease window, ms (2000 to 10000). @defaultValue 5000 */
  leaseMs?: number;
  /** This process in lease records. @defaultValue `<host>-<pid>-<random>` */
  nodeId?: string;
  /** How long to wait for Redis at start before giving up, ms. @defaultValue 10000 */
  connectTimeoutMs?: number;
}

/** Totals of a cluster run: the in-process ones, plus where this process stands in the cluster. */
export interface ClusterDeviceServerReport extends DeviceServerReport {
  /** This process in the cluster. */
  cluster: {
    /** Its node id. */
    nodeId: string;
    /** Shards it polls now, and how many there are. */
    shardsHeld: number;
    shards: number;
    /** Attributes with a fresh value here (whichever process polled them), of all. */
    fresh: number;
    keys: number;
    /** Waveforms this process read (each sent for analysis once). */
    waveformsPolled: number;
    /** Waveform analyses this process's node ran for the cluster. */
    analysesRunHere: number;
    /** Snapshot runs across the cluster, as last read from Redis. */
    cronRunsCluster: number;
  };
}

/** A device server in cluster mode, from `startDeviceServer({ redis })`. */
export interface ClusterDeviceServer extends DeviceServerBase {
  /** Cluster mode. */
  readonly mode: 'cluster';
  /** Every attribute: polled here for the shards this process holds, mirrored from Redis for the rest. */
  readonly dict: ClusterThreadDict<JsonAttributeValue>;
  /** This process's worker threads, which its node runs analyses in. */
  readonly pool: WorkerProcess<typeof handlers>;
  /** Runs analysis requests of any process in {@link ClusterDeviceServer.pool}. */
  readonly node: ClusterWorkerNode;
  /** Sends analyses of the waveforms this process polled, to any process's node. */
  readonly client: ClusterWorkerProcess<typeof handlers>;
  /** The snapshot job: each slot runs in one process of the cluster. */
  readonly crontab: ClusterCronTab;
  /** Slots (epoch ms) of the snapshots this process wrote, oldest first (the last 1,000). */
  readonly snapshots: readonly number[];
  /** Where Redis is. */
  readonly connection: RedisConnectionOptions;
  /** The counts of a run, with the cluster's. */
  report(): ClusterDeviceServerReport;
  /** Stops everything, kills every component (closing their Redis connections) and closes the endpoint. */
  shutdown(): Promise<ClusterDeviceServerReport>;
}

/**
 * Starts the device server in cluster mode. Each process simulates its own
 * copy of the plant (simulated hardware cannot be shared) and appends every
 * attribute to one `ClusterThreadDict`: each shard is polled by one process
 * at a time, and every value reaches every process through Redis. The
 * snapshot job is a `ClusterCronTab` job (each slot once in the cluster);
 * each process analyses the waveforms **it polled** by sending them to a
 * `ClusterWorkerProcess`, and runs analyses of any process in its own
 * `WorkerProcess` pool through a `ClusterWorkerNode`. No operator: a
 * setpoint write needs the hardware the others read (see the README).
 *
 * @throws ConfigError for `clock` (Redis runs in real time); TimeoutError
 *   when Redis does not answer within `connectTimeoutMs`
 */
export async function startClusterDeviceServer(
  options: ClusterDeviceServerOptions,
): Promise<ClusterDeviceServer> {
  if (options.clock !== undefined && options.clock !== systemClock) {
    throw new ConfigError(
      'device server: options.clock is not supported with options.redis (Redis runs in real time)',
      'options.clock',
    );
  }
  const clock = systemClock;
  const print = options.print ?? ((line: string) => console.log(line));
  const connection = options.redis;
  const prefix = options.prefix ?? 'tickwork-demo';
  const registry = new Registry();
  const common = { clock, registry };
  const plant = new SimulatedPlant({
    clock,
    ...(options.faultRate === undefined ? {} : { faultRate: options.faultRate }),
    ...(options.hangRate === undefined ? {} : { hangRate: options.hangRate }),
  });
  const writeSnapshot = await snapshotWriter(
    registry,
    clock,
    options.snapshotDir ?? join(tmpdir(), 'tickwork-demo'),
  );
  const server = await serveOnFreePort(options, registry);

  // Reads by this process, counted per key as ThreadDict counts polls.
  const reads = { polls: 0, errors: 0, waveforms: 0 };
  // Waveforms this process read itself: only those are sent for analysis, so
  // a waveform is analysed once, by the process that polled it.
  const polledHere = new WeakSet<number[]>();
  const dict = new ClusterThreadDict<JsonAttributeValue>({
    ...common,
    connection,
    prefix,
    name: 'plant',
    ...(options.shards === undefined ? {} : { shards: options.shards }),
    ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
    ...(options.nodeId === undefined ? {} : { nodeId: options.nodeId }),
    timeoutMs: 250,
    batchBy: deviceOf,
    readMany: async (keys, { signal }) => {
      const device = deviceOf(keys[0]!);
      const names = keys.map((k) => k.slice(device.length + 1));
      try {
        const values = await plant.readAttributes(device, names, signal);
        reads.polls += keys.length;
        return values.map((v) => {
          if (!(v instanceof Float64Array)) return v;
          const samples = Array.from(v);
          polledHere.add(samples);
          reads.waveforms++;
          return samples;
        });
      } catch (error) {
        reads.polls += keys.length;
        reads.errors += keys.length;
        return keys.map((): ReadFailure => readFailure(error));
      }
    },
  });
  for (const attribute of plant.attributes())
    dict.append(attribute, { periodMs: periodOf(attribute) });

  const pool = analysisPool(common, 'analysis-pool');
  const node = new ClusterWorkerNode({
    ...common,
    name: 'analysis-node',
    connection,
    prefix,
    pool,
    concurrency: 2,
  });
  const client = new ClusterWorkerProcess<typeof handlers>({
    ...common,
    name: 'analysis',
    connection,
    prefix,
    timeoutMs: 2_000,
    // A finished analysis holds 1,000 samples in Redis: keep them 1 min, not 10.
    keepFinishedMs: 60_000,
  });
  const analysis = new Map<string, WaveformStats>();
  const subscriptions = plant.devicesOf('scope').map((scope) => {
    const key = `${scope}/waveform`;
    return dict.watch(key).subscribe((entry) => {
      const samples = entry.value;
      if (!Array.isArray(samples) || !polledHere.has(samples)) return;
      client.send(key, 'waveformStats', samples, (error, stats) => {
        if (error === null && stats !== undefined) analysis.set(key, stats);
      });
    });
  });

  const crontab = new ClusterCronTab({ ...common, name: 'snapshots', connection, prefix });
  const snapshots: number[] = [];
  crontab.add(
    options.snapshotCron ?? '* * * * *',
    async ({ scheduledAt }) => {
      snapshots.push(scheduledAt);
      if (snapshots.length > 1_000) snapshots.shift();
      return writeSnapshot();
    },
    // A snapshot of a minute long gone is worth nothing: no catch-up after downtime.
    { name: 'write-snapshot', timeoutMs: 10_000, catchUp: 'skip' },
  );

  const report = (): ClusterDeviceServerReport =>
    clusterReport({ dict, client, node, crontab, registry, reads });
  const summary = (): string => clusterSummary(report(), analysis);
  const reporter = summaryReporter(common, options.summaryEveryMs ?? 2_000, print, summary);
  // Stopping the dict first hands its shards to the other processes at once.
  const shutdown = shutdownOnce(subscriptions, registry, server, report);

  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const ready = Promise.all([dict.synced(), crontab.synced(), node.ready()]);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new TimeoutError(
                `device server: no answer from Redis at ${redisLabel(connection)} within ${timeoutMs} ms`,
                timeoutMs,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } catch (error) {
    ready.catch(() => undefined);
    // Without Redis, BullMQ's close() may wait for a connection that never
    // comes: give up after 3 s (the caller exits).
    await Promise.race([shutdown(), new Promise((resolve) => setTimeout(resolve, 3_000).unref())]);
    throw error;
  } finally {
    clearTimeout(timer);
  }
  reporter?.start();

  return {
    mode: 'cluster',
    plant,
    dict,
    pool,
    node,
    client,
    crontab,
    snapshots,
    connection,
    server,
    registry,
    analysis,
    summary,
    report,
    shutdown,
  };
}
