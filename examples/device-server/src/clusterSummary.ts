/**
 * The cluster mode's report and summary line: where this process stands
 * (shards held, reads, fresh values, analyses, snapshots).
 * @module
 */
import type {
  ClusterCronTab,
  ClusterThreadDict,
  ClusterWorkerNode,
  ClusterWorkerProcess,
} from '@tickwork/bullmq';
import type { JsonValue, Registry } from '@tickwork/core';
import type { ClusterDeviceServerReport, JsonAttributeValue } from './clusterDeviceServer.js';
import { mib } from './plantPolling.js';
import type { handlers, WaveformStats } from './waveformExecutor.js';

/** What {@link clusterReport} reads. */
export interface ClusterReportSources {
  /** The polled attributes. */
  readonly dict: ClusterThreadDict<JsonAttributeValue>;
  /** The analysis client of this process. */
  readonly client: ClusterWorkerProcess<typeof handlers>;
  /** The analysis node of this process. */
  readonly node: ClusterWorkerNode;
  /** The snapshot job. */
  readonly crontab: ClusterCronTab;
  /** The demo's registry. */
  readonly registry: Registry;
  /** Reads by this process, per key. */
  readonly reads: { readonly polls: number; readonly errors: number; readonly waveforms: number };
}

const count = (detail: { readonly [key: string]: JsonValue } | undefined, key: string): number => {
  const v = detail?.[key];
  return typeof v === 'number' ? v : 0;
};

/** The totals of a cluster run, as this process sees them. */
export function clusterReport(s: ClusterReportSources): ClusterDeviceServerReport {
  const requests = s.client.diagnostics().detail;
  const shards = s.dict.shards();
  let fresh = 0;
  for (const key of s.dict.keys()) if (!s.dict.entry(key).stale) fresh++;
  const memory = process.memoryUsage();
  return {
    polls: s.reads.polls,
    pollErrors: s.reads.errors,
    requests: {
      completed: count(requests, 'completed'),
      failed: count(requests, 'failed'),
      canceled: count(requests, 'canceled'),
      timedOut: count(requests, 'timedOut'),
    },
    cronRuns: s.crontab.diagnostics().stats.count,
    writes: 0,
    components: s.registry.size,
    heapMiB: mib(memory.heapUsed),
    rssMiB: mib(memory.rss),
    cluster: {
      nodeId: s.dict.nodeId,
      shardsHeld: shards.filter((i) => i.held).length,
      shards: shards.length,
      fresh,
      keys: s.dict.size,
      waveformsPolled: s.reads.waveforms,
      analysesRunHere: count(s.node.diagnostics().detail, 'completed'),
      cronRunsCluster: s.crontab.isAlive() ? s.crontab.job('write-snapshot').runs : 0,
    },
  };
}

/** One line: shards, reads, fresh values, analyses, snapshots, heap. */
export function clusterSummary(
  r: ClusterDeviceServerReport,
  analysis: ReadonlyMap<string, WaveformStats>,
): string {
  const c = r.cluster;
  const wave = analysis.values().next().value;
  return [
    `shards ${c.shardsHeld}/${c.shards} here`,
    `polls ${r.polls} (${r.pollErrors} failed)`,
    `values ${c.fresh}/${c.keys} fresh`,
    `waveform rms ${wave === undefined ? '–' : wave.rms.toFixed(3)} (${r.requests.completed} analyses sent, ${c.analysesRunHere} run here)`,
    `snapshots ${r.cronRuns} here, ${c.cronRunsCluster} in cluster`,
    `heap ${r.heapMiB} MiB`,
  ].join(' · ');
}
