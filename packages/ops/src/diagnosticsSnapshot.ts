import type { ComponentDiagnostics, ItemDiagnostics } from '@tickwork/core';

/**
 * The schema identifier every snapshot carries. Fields are only ever added
 * within `v1`; a rename or removal bumps it, so consumers can refuse what they
 * do not understand.
 */
export const DIAGNOSTICS_SCHEMA = 'tickwork.diagnostics/v1';

/** The type of {@link DIAGNOSTICS_SCHEMA}. */
export type DiagnosticsSchemaId = typeof DIAGNOSTICS_SCHEMA;

/**
 * A kind-independent reading of one component or item, derived by
 * `@tickwork/ops` from its Stats and detail so that dashboards, scripts and
 * `tickwork top` need not know what each kind puts in `detail`.
 */
export interface Overview {
  /**
   * Schedule period, ms: `detail.periodMs` when the component reports one
   * (ThreadDict keys, ThreadedObjects), else null (cron jobs, worker targets).
   */
  periodMs: number | null;
  /**
   * How old the value is, ms: `detail.ageMs` when reported (a ThreadDict key:
   * null until its first value), else the time since `detail.sampledAt`, else
   * the time since `stats.lastSuccess`, else null.
   */
  ageMs: number | null;
  /**
   * Whether the last finished run failed: `detail.consecutiveErrors > 0` when
   * reported, else a `stats.lastError` no later success has cleared.
   */
  failing: boolean;
  /**
   * Whether the value is older than it may be: `detail.stale` when reported,
   * else `detail.ageMs > detail.expireMs` when both are numbers, else false.
   */
  stale: boolean;
}

/** One item (ThreadDict key, worker target, cron job) in a {@link DiagnosticsSnapshot}. */
export interface ItemSnapshot extends ItemDiagnostics {
  /** The derived, kind-independent view of this item. */
  overview: Overview;
}

/** One component in a {@link DiagnosticsSnapshot}: its registry diagnostics plus overviews. */
export interface ComponentSnapshot extends Omit<ComponentDiagnostics, 'items'> {
  /** The derived, kind-independent view of the component as a whole. */
  overview: Overview;
  /** Per-item diagnostics, when the component has items. */
  items?: ItemSnapshot[];
}

/** Memory of the process, bytes, as `process.memoryUsage()` reports it. */
export interface ProcessMemory {
  /** Resident set size, bytes. */
  rss: number;
  /** V8 heap reserved, bytes. */
  heapTotal: number;
  /** V8 heap in use, bytes. */
  heapUsed: number;
  /** Memory of C++ objects bound to JS objects, bytes. */
  external: number;
  /** Memory of `ArrayBuffer`s and `SharedArrayBuffer`s, bytes (included in `external`). */
  arrayBuffers: number;
}

/** The process the snapshot was taken in. */
export interface ProcessInfo {
  /** Process id. */
  pid: number;
  /** Time since the process started, ms. */
  uptimeMs: number;
  /** Node.js version, e.g. `v20.20.0`. */
  node: string;
  /** Memory use. */
  memory: ProcessMemory;
}

/**
 * The versioned JSON document `snapshot()` returns and `GET /diagnostics`
 * serves: every registered component's Stats, detail and per-item status.
 * The JSON Schema is `schema/diagnostics-v1.schema.json` in this package.
 */
export interface DiagnosticsSnapshot {
  /** Always {@link DIAGNOSTICS_SCHEMA}. */
  schema: DiagnosticsSchemaId;
  /** When the snapshot was taken, epoch ms. */
  takenAt: number;
  /** The process it was taken in. */
  process: ProcessInfo;
  /** One entry per live component, in registration order. */
  components: ComponentSnapshot[];
}
