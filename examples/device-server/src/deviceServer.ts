import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, Registry, systemClock } from '@tickwork/core';
import { CronTab } from '@tickwork/crontab';
import { type DiagnosticsServer, serveDiagnostics } from '@tickwork/ops';
import { type ReadFailure, readFailure, ThreadDict, ThreadedObject } from '@tickwork/polling';
import type { WorkerProcess } from '@tickwork/workers';
import type { ClusterDeviceServer, ClusterDeviceServerOptions } from './clusterDeviceServer.js';
import { startClusterDeviceServer } from './clusterDeviceServer.js';
import { deviceOf, mib, periodOf } from './plantPolling.js';
import { analysisPool, shutdownOnce, summaryReporter } from './serverParts.js';
import { type AttributeValue, SimulatedPlant } from './simulatedPlant.js';
import { snapshotWriter } from './snapshotWriter.js';
import type { handlers, WaveformStats } from './waveformExecutor.js';

/** Options of both modes of {@link startDeviceServer}. */
export interface DeviceServerCommonOptions {
  /** Port of the diagnostics endpoint (0: any free port). @defaultValue 9464 */
  port?: number;
  /** Host of the diagnostics endpoint. @defaultValue '127.0.0.1' */
  host?: string;
  /** Folder the cron job writes `tickwork-snapshot.json` to. @defaultValue `<tmpdir>/tickwork-demo` */
  snapshotDir?: string;
  /** Share of device reads that fail. @defaultValue 0.02 */
  faultRate?: number;
  /** Share of reads of the flaky device that hang. @defaultValue 0.05 */
  hangRate?: number;
  /** Print a summary line this often, ms; 0 for none. @defaultValue 2000 */
  summaryEveryMs?: number;
  /** Where summary lines go. @defaultValue console.log */
  print?: (line: string) => void;
  /** Cron expression of the snapshot job (6 fields for seconds). @defaultValue '* * * * *' */
  snapshotCron?: string;
  /** Time source (in-process mode only: the cluster mode runs on Redis, in real time). @defaultValue systemClock */
  clock?: Clock;
}

/** Options of {@link startDeviceServer} in one process (no `redis`). */
export interface DeviceServerOptions extends DeviceServerCommonOptions {
  /** Unset: one process does everything (with it, see `ClusterDeviceServerOptions`). */
  redis?: undefined;
}

/** What both modes of a running device server have. */
export interface DeviceServerBase {
  /** `'in-process'`: one process does everything; `'cluster'`: processes share the work through Redis. */
  readonly mode: 'in-process' | 'cluster';
  /** The simulated hardware (in cluster mode, this process's own copy). */
  readonly plant: SimulatedPlant;
  /** The diagnostics endpoint. */
  readonly server: DiagnosticsServer;
  /** The demo's own registry: every component is in it. */
  readonly registry: Registry;
  /** Latest waveform statistics. */
  readonly analysis: Map<string, WaveformStats>;
  /** One line saying how things are going. */
  summary(): string;
  /** The counts a soak run reports. */
  report(): DeviceServerReport;
  /** Stops everything, kills every component and closes the endpoint. */
  shutdown(): Promise<DeviceServerReport>;
}

/** A running device server in one process, from {@link startDeviceServer}. */
export interface DeviceServer extends DeviceServerBase {
  /** In-process mode. */
  readonly mode: 'in-process';
  /** Every attribute, polled. */
  readonly dict: ThreadDict<AttributeValue>;
  /** Waveform analysis in worker threads. */
  readonly pool: WorkerProcess<typeof handlers>;
  /** The snapshot writer. */
  readonly crontab: CronTab;
}

/** Totals of a run. */
export interface DeviceServerReport {
  /** Polls finished, and how many failed. */
  polls: number;
  pollErrors: number;
  /** Worker requests by terminal state. */
  requests: { completed: number; failed: number; canceled: number; timedOut: number };
  /** Cron runs finished. */
  cronRuns: number;
  /** Setpoints written. */
  writes: number;
  /** Components still registered (0 after shutdown). */
  components: number;
  /** Memory now, MiB. */
  heapMiB: number;
  rssMiB: number;
}

/**
 * Starts the simulated device server: a few hundred attributes polled by a
 * `ThreadDict` (one `readMany` call per device and period), waveform
 * statistics computed in a `WorkerProcess`, an operator changing power-supply
 * setpoints through `set`, a `CronTab` job writing a diagnostics snapshot
 * every minute, and the diagnostics served over HTTP.
 *
 * With `redis`, the cluster mode instead (see `startClusterDeviceServer`):
 * processes started alike share the polling, the snapshot job and the
 * analyses through Redis.
 */
export function startDeviceServer(
  options: ClusterDeviceServerOptions,
): Promise<ClusterDeviceServer>;
export function startDeviceServer(options?: DeviceServerOptions): Promise<DeviceServer>;
export function startDeviceServer(
  options?: DeviceServerOptions | ClusterDeviceServerOptions,
): Promise<DeviceServer | ClusterDeviceServer>;
export function startDeviceServer(
  options: DeviceServerOptions | ClusterDeviceServerOptions = {},
): Promise<DeviceServer | ClusterDeviceServer> {
  if ('redis' in options && options.redis !== undefined) return startClusterDeviceServer(options);
  return startInProcess(options);
}

async function startInProcess(options: DeviceServerOptions): Promise<DeviceServer> {
  const clock = options.clock ?? systemClock;
  const print = options.print ?? ((line: string) => console.log(line));
  const registry = new Registry();
  const common = { clock, registry };
  const plant = new SimulatedPlant({
    clock,
    ...(options.faultRate === undefined ? {} : { faultRate: options.faultRate }),
    ...(options.hangRate === undefined ? {} : { hangRate: options.hangRate }),
  });

  const dict = new ThreadDict<AttributeValue>({
    ...common,
    name: 'plant',
    timeoutMs: 250,
    batchBy: deviceOf,
    readMany: async (keys, { signal }) => {
      // One request per device, as Tango reads a device's attributes together.
      const device = deviceOf(keys[0]!);
      const names = keys.map((k) => k.slice(device.length + 1));
      try {
        return await plant.readAttributes(device, names, signal);
      } catch (error) {
        return keys.map((): ReadFailure => readFailure(error));
      }
    },
    write: (key, value) => plant.write(key, value),
  });
  for (const attribute of plant.attributes())
    dict.append(attribute, { periodMs: periodOf(attribute) });

  const pool = analysisPool(common, 'analysis');
  const analysis = new Map<string, WaveformStats>();
  const subscriptions = plant.devicesOf('scope').map((scope) => {
    const key = `${scope}/waveform`;
    return dict.watch(key).subscribe((entry) => {
      if (!(entry.value instanceof Float64Array)) return;
      pool.send(key, 'waveformStats', entry.value, (error, stats) => {
        if (error === null && stats !== undefined) analysis.set(key, stats);
      });
    });
  });

  const supplies = plant.devicesOf('powerSupply');
  let turn = 0;
  const operator = new ThreadedObject({
    ...common,
    name: 'operator',
    periodMs: 7_000,
    target: () => {
      turn++;
      const supply = supplies[turn % supplies.length]!;
      return dict.set(`${supply}/setpoint`, 10 + ((turn * 37) % 80));
    },
  });

  const writeSnapshot = await snapshotWriter(
    registry,
    clock,
    options.snapshotDir ?? join(tmpdir(), 'tickwork-demo'),
  );
  const crontab = new CronTab({ ...common, name: 'snapshots', start: false });
  crontab.add(options.snapshotCron ?? '* * * * *', writeSnapshot, {
    name: 'write-snapshot',
    timeoutMs: 10_000,
  });

  const server = await serveDiagnostics({
    port: options.port ?? 9464,
    host: options.host ?? '127.0.0.1',
    registry,
    clock,
  });

  const report = (): DeviceServerReport => {
    const poolDetail = pool.diagnostics().detail ?? {};
    const count = (k: string): number => {
      const v = poolDetail[k];
      return typeof v === 'number' ? v : 0;
    };
    const polls = dict.stats();
    const cron = crontab.diagnostics().stats;
    const memory = process.memoryUsage();
    return {
      polls: polls.count,
      pollErrors: polls.errors,
      requests: {
        completed: count('completed'),
        failed: count('failed'),
        canceled: count('canceled'),
        timedOut: count('timedOut'),
      },
      cronRuns: cron.count,
      writes: plant.counts.writes,
      components: registry.size,
      heapMiB: mib(memory.heapUsed),
      rssMiB: mib(memory.rss),
    };
  };

  const summary = (): string => {
    const r = report();
    const failing = dict.keys().filter((k) => dict.entry(k).status === 'error');
    const late = dict.stats().lateness;
    const wave = analysis.values().next().value;
    return [
      `polls ${r.polls} (${r.pollErrors} failed)`,
      `lateness p50 ${late.p50.toFixed(1)} ms p99 ${late.p99.toFixed(1)} ms`,
      `failing now ${failing.length}${failing.length > 0 ? ` (${failing.slice(0, 3).join(', ')}${failing.length > 3 ? ', …' : ''})` : ''}`,
      `waveform rms ${wave === undefined ? '–' : wave.rms.toFixed(3)} (${r.requests.completed} analyses)`,
      `snapshots ${r.cronRuns}`,
      `heap ${r.heapMiB} MiB`,
    ].join(' · ');
  };

  const reporter = summaryReporter(common, options.summaryEveryMs ?? 2_000, print, summary);

  dict.start();
  pool.start();
  operator.start();
  crontab.start();
  reporter?.start();

  const shutdown = shutdownOnce(subscriptions, registry, server, report);

  return {
    mode: 'in-process',
    plant,
    dict,
    pool,
    crontab,
    server,
    registry,
    analysis,
    summary,
    report,
    shutdown,
  };
}
