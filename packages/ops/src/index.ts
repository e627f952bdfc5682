/**
 * Diagnostics for operators: a versioned JSON snapshot of every tickwork
 * component, Prometheus metrics, an HTTP endpoint with a live dashboard, and
 * the `tickwork top` terminal view.
 *
 * @packageDocumentation
 * @module @tickwork/ops
 */
export { CLI_USAGE, runCli } from './cli.js';
export type {
  ComponentSnapshot,
  DiagnosticsSchemaId,
  DiagnosticsSnapshot,
  ItemSnapshot,
  Overview,
  ProcessInfo,
  ProcessMemory,
} from './diagnosticsSnapshot.js';
export { DIAGNOSTICS_SCHEMA } from './diagnosticsSnapshot.js';
export { MIN_TOKEN_LENGTH } from './httpAccess.js';
export type { MetricFamily } from './metricFamilies.js';
export { DEFAULT_METRIC_FAMILIES } from './metricFamilies.js';
export type { MetricsOptions } from './metrics.js';
export { metrics } from './metrics.js';
export type { RenderTopOptions } from './renderTop.js';
export { renderTop } from './renderTop.js';
export type { TopInput, TopIO, TopOutput } from './runTop.js';
export { DEFAULT_TOP_URL, runTop, TOP_USAGE } from './runTop.js';
export type { DiagnosticsServer, ServeDiagnosticsOptions } from './serveDiagnostics.js';
export { serveDiagnostics } from './serveDiagnostics.js';
export type { SnapshotOptions } from './snapshot.js';
export { snapshot } from './snapshot.js';
export type { DiagnosticsRow } from './snapshotRows.js';
export { byLateness, snapshotRows } from './snapshotRows.js';
