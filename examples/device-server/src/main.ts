/**
 * `pnpm demo [--duration <s>] [--port <n>] [--host <h>] [--snapshot-dir <dir>]
 * [--redis <url>]` runs the simulated device server until Ctrl-C (or for
 * `--duration` seconds); with `--redis`, in cluster mode, sharing the work
 * with every process started with the same URL.
 * `pnpm soak -- --minutes N` runs it with heavier fault injection and reports
 * totals and memory at start, after warm-up and at the end.
 * @module
 */
import { parseArgs } from 'node:util';
import type { RedisConnectionOptions } from '@tickwork/bullmq';
import type { ClusterDeviceServerReport } from './clusterDeviceServer.js';
import {
  type DeviceServerBase,
  type DeviceServerReport,
  startDeviceServer,
} from './deviceServer.js';
import { parseRedisUrl, redisLabel } from './redisUrl.js';

// pnpm passes a lone '--' through (`pnpm soak -- --minutes 5`): it separates nothing here.
const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    duration: { type: 'string' },
    minutes: { type: 'string' },
    port: { type: 'string', default: '9464' },
    host: { type: 'string', default: '127.0.0.1' },
    'snapshot-dir': { type: 'string' },
    redis: { type: 'string' },
    soak: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

function number(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min) {
    console.error(
      `device-server: --${name} must be a number >= ${min} (got ${JSON.stringify(text)})`,
    );
    process.exit(2);
  }
  return n;
}

const soak = values.soak || values.minutes !== undefined;
const durationS = soak
  ? (number('minutes', values.minutes ?? '1', 0.05) ?? 1) * 60
  : number('duration', values.duration, 0.1);
const port = number('port', values.port, 0) ?? 9464;

function redisOptions(text: string | undefined): RedisConnectionOptions | undefined {
  if (text === undefined) return undefined;
  try {
    return parseRedisUrl(text);
  } catch (error) {
    console.error(`device-server: ${(error as Error).message}`);
    process.exit(2);
  }
}
const redis = redisOptions(values.redis);

const memory = (): string => {
  const m = process.memoryUsage();
  return `heap ${(m.heapUsed / 1_048_576).toFixed(1)} MiB, rss ${(m.rss / 1_048_576).toFixed(1)} MiB`;
};
const atStart = memory();

let server: DeviceServerBase;
try {
  server = await startDeviceServer({
    port,
    host: values.host,
    ...(values['snapshot-dir'] === undefined ? {} : { snapshotDir: values['snapshot-dir'] }),
    ...(soak ? { faultRate: 0.1, hangRate: 0.3 } : {}),
    summaryEveryMs: values.quiet ? 0 : soak ? 10_000 : 2_000,
    ...(redis === undefined ? {} : { redis }),
  });
} catch (error) {
  console.error(`device-server: could not start: ${(error as Error).message}`);
  process.exit(1);
}

console.log(
  `tickwork device server: ${server.plant.attributes().length} attributes on ${server.plant.devicesOf('thermometer').length + server.plant.devicesOf('powerSupply').length + server.plant.devicesOf('scope').length} simulated devices`,
);
if (server.mode === 'cluster' && redis !== undefined) {
  const c = (server.report() as ClusterDeviceServerReport).cluster;
  console.log(
    `  cluster    node ${c.nodeId} on ${redisLabel(redis)}: ${c.shards} shards shared with every process started with the same --redis`,
  );
}
console.log(`  dashboard  ${server.server.url}`);
console.log(`  metrics    ${server.server.url}metrics`);
console.log(`  live table pnpm top ${server.server.url}`);
console.log(durationS === undefined ? '  Ctrl-C to stop' : `  running for ${durationS} s`);

let afterWarmUp: string | undefined;
let warmUpTimer: NodeJS.Timeout | undefined;
if (soak)
  warmUpTimer = setTimeout(
    () => (afterWarmUp = memory()),
    Math.min(30_000, ((durationS ?? 60) * 1000) / 4),
  );

function print(report: DeviceServerReport): void {
  const r = report.requests;
  console.log('\nfinal report');
  console.log(`  polls            ${report.polls} (${report.pollErrors} failed)`);
  console.log(
    `  worker requests  ${r.completed + r.failed + r.canceled + r.timedOut} settled: ${r.completed} completed, ${r.failed} failed, ${r.canceled} canceled, ${r.timedOut} timed out`,
  );
  console.log(`  cron runs        ${report.cronRuns}`);
  if ('cluster' in report) {
    const c = (report as ClusterDeviceServerReport).cluster;
    console.log(`  setpoints set    – (no operator in cluster mode)`);
    console.log(`  analyses here    ${c.analysesRunHere} run by this process's node`);
    console.log(
      `  cluster          ${c.cronRunsCluster} snapshot runs in all; values ${c.fresh}/${c.keys} fresh at stop`,
    );
  } else console.log(`  setpoints set    ${report.writes}`);
  console.log(
    `  memory           start: ${atStart}; after warm-up: ${afterWarmUp ?? '–'}; end: ${memory()}`,
  );
  console.log(`  components left  ${report.components}`);
}

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) {
    // Cluster mode: with Redis gone, closing BullMQ connections can wait
    // forever; a second Ctrl-C leaves without them.
    if (server.mode === 'cluster') {
      console.error(`\n${signal} again: exiting without waiting for Redis`);
      process.exit(1);
    }
    return;
  }
  stopping = true;
  clearTimeout(warmUpTimer);
  clearTimeout(durationTimer);
  console.log(`\n${signal}: stopping…`);
  const report = await server.shutdown();
  print(report);
  process.exitCode = report.components === 0 ? 0 : 1;
  // Nothing is left running: the process exits by itself once the loop is empty.
  process.removeListener('SIGINT', onSigint);
  process.removeListener('SIGTERM', onSigterm);
}
const onSigint = (): void => void stop('SIGINT');
const onSigterm = (): void => void stop('SIGTERM');
process.on('SIGINT', onSigint);
process.on('SIGTERM', onSigterm);
const durationTimer =
  durationS === undefined
    ? undefined
    : setTimeout(() => void stop(`after ${durationS} s`), durationS * 1000);
