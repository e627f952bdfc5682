import { mkdir, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Clock, Registry, systemClock } from '@tickwork/core';
import { CronTab } from '@tickwork/crontab';
import { type DiagnosticsServer, serveDiagnostics, snapshot } from '@tickwork/ops';
import { type ReadFailure, readFailure, ThreadDict, ThreadedObject } from '@tickwork/polling';
import { WorkerProcess } from '@tickwork/workers';
import { type AttributeValue, SimulatedPlant } from './simulatedPlant.js';
import type { handlers, WaveformStats } from './waveformExecutor.js';

/** Options of {@link startDeviceServer}. */
export interface DeviceServerOptions {
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
  /** Time source. @defaultValue systemClock */
  clock?: Clock;
}

/** A running device server, from {@link startDeviceServer}. */
export interface DeviceServer {
  /** The simulated hardware. */
  readonly plant: SimulatedPlant;
  /** Every attribute, polled. */
  readonly dict: ThreadDict<AttributeValue>;
  /** Waveform analysis in worker threads. */
  readonly pool: WorkerProcess<typeof handlers>;
  /** The snapshot writer. */
  readonly crontab: CronTab;
  /** The diagnostics endpoint. */
  readonly server: DiagnosticsServer;
  /** The demo's own registry: every component above is in it. */
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

/** Polling period of each attribute, ms: 100 ms to 5 s, as real device servers mix them. */
const PERIODS: Record<string, number> = {
  temperature: 1_000,
  pressure: 5_000,
  humidity: 2_000,
  current: 100,
  voltage: 500,
  setpoint: 1_000,
  state: 5_000,
  waveform: 1_000,
  frequency: 1_000,
};

const deviceOf = (attribute: string): string => attribute.slice(0, attribute.lastIndexOf('/'));
const mib = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;

/**
 * Starts the simulated device server: a few hundred attributes polled by a
 * `ThreadDict` (one `readMany` call per device and period), waveform
 * statistics computed in a `WorkerProcess`, an operator changing power-supply
 * setpoints through `set`, a `CronTab` job writing a diagnostics snapshot
 * every minute, and the diagnostics served over HTTP.
 */
export async function startDeviceServer(options: DeviceServerOptions = {}): Promise<DeviceServer> {
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
  for (const attribute of plant.attributes()) {
    const name = attribute.slice(attribute.lastIndexOf('/') + 1);
    dict.append(attribute, { periodMs: PERIODS[name] ?? 1_000 });
  }

  const pool = new WorkerProcess<typeof handlers>({
    ...common,
    name: 'analysis',
    executor: new URL('./waveformExecutor.ts', import.meta.url),
    minThreads: 1,
    maxThreads: 2,
    timeoutMs: 2_000,
  });
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

  const snapshotDir = options.snapshotDir ?? join(tmpdir(), 'tickwork-demo');
  await mkdir(snapshotDir, { recursive: true });
  const snapshotFile = join(snapshotDir, 'tickwork-snapshot.json');
  const crontab = new CronTab({ ...common, name: 'snapshots', start: false });
  crontab.add(
    '* * * * *',
    async () => {
      const temp = `${snapshotFile}.${process.pid}.tmp`;
      await writeFile(temp, `${JSON.stringify(snapshot(registry, { clock }), null, 2)}\n`);
      await rename(temp, snapshotFile); // readers never see half a file
      return snapshotFile;
    },
    { name: 'write-snapshot', timeoutMs: 10_000 },
  );

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

  const summaryEveryMs = options.summaryEveryMs ?? 2_000;
  const reporter =
    summaryEveryMs > 0
      ? new ThreadedObject({
          ...common,
          name: 'summary',
          periodMs: summaryEveryMs,
          target: () => print(summary()),
        })
      : undefined;

  dict.start();
  pool.start();
  operator.start();
  crontab.start();
  reporter?.start();

  let closing: Promise<DeviceServerReport> | undefined;
  const shutdown = (): Promise<DeviceServerReport> => {
    closing ??= (async () => {
      for (const s of subscriptions) s.unsubscribe();
      await registry.stopAll({ timeoutMs: 3_000 });
      const final = report();
      await registry.killAll();
      await server.close();
      return { ...final, components: registry.size };
    })();
    return closing;
  };

  return { plant, dict, pool, crontab, server, registry, analysis, summary, report, shutdown };
}
