import { createHash } from 'node:crypto';
import type { JobsOptions } from 'bullmq';
import type { ClusterJobData } from './clusterRequest.js';
import type { ClusterRequestEntry } from './clusterRequestInfo.js';
import { bullPriority } from './clusterRequestOptions.js';

/**
 * @internal how long finished request jobs stay in Redis by default, ms.
 * Nodes apply it to every job they finish (worker-level `removeOnComplete` /
 * `removeOnFail`), so a job carries its own only when its client keeps
 * longer or shorter: smaller job options are less to write and parse for
 * every request.
 */
export const DEFAULT_KEEP_FINISHED_MS = 600_000;

/** @internal how a request becomes a BullMQ job */
export interface RequestJobSpec {
  /** Run-time limit on the node, ms; 0 for none. */
  readonly timeoutMs: number;
  /** How long the finished job stays in Redis, ms. */
  readonly keepFinishedMs: number;
  /** Results of its `after` upstreams. */
  readonly upstream: readonly unknown[] | undefined;
  /** A command: no BullMQ priority, which BullMQ serves before any prioritized job. */
  readonly command: boolean;
  /** Join an identical job in flight (BullMQ deduplication). */
  readonly dedupe: boolean;
}

/** @internal the data and options of the job of `entry`: its id is the request id */
export function requestJob(
  entry: ClusterRequestEntry,
  spec: RequestJobSpec,
): { data: ClusterJobData; opts: JobsOptions } {
  const data: ClusterJobData = {
    key: entry.key,
    args: entry.args,
    ...(entry.group === undefined ? {} : { group: entry.group }),
    ...(spec.timeoutMs > 0 ? { timeoutMs: spec.timeoutMs } : {}),
    ...(spec.upstream === undefined ? {} : { upstream: spec.upstream }),
  };
  const opts: JobsOptions = { jobId: entry.id };
  if (spec.keepFinishedMs !== DEFAULT_KEEP_FINISHED_MS) {
    const age = Math.ceil(spec.keepFinishedMs / 1000);
    opts.removeOnComplete = { age };
    opts.removeOnFail = { age };
  }
  if (!spec.command) opts.priority = bullPriority(entry.priority);
  if (spec.dedupe) opts.deduplication = { id: dedupeId(entry.key, entry.target, entry.args) };
  return { data, opts };
}

/** BullMQ deduplication id of a request: its key, target and args as canonical JSON. */
function dedupeId(key: string, target: string, args: unknown): string {
  return createHash('sha1')
    .update(canonicalJson([key, target, args]))
    .digest('hex');
}

/** JSON with object keys sorted, so equal args give equal text whatever their key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
