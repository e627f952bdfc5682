import type { LastErrorSnapshot, LifecycleState, StatsSnapshot } from '@tickwork/core';
import type {
  ComponentSnapshot,
  DiagnosticsSnapshot,
  ItemSnapshot,
  Overview,
} from './diagnosticsSnapshot.js';

/**
 * One schedulable thing of a snapshot as a table row: a ThreadDict key, a
 * worker target, a cron job, or a component without items (a ThreadedObject).
 * `tickwork top` and the dashboard show these.
 */
export interface DiagnosticsRow {
  /** Component name. */
  component: string;
  /** Component kind. */
  kind: string;
  /** Item name; `''` for a component without items. */
  key: string;
  /** The item's own state when it reports one (`detail.state`, paused, done), else the component's. */
  state: string;
  /** Schedule period, ms, or null. */
  periodMs: number | null;
  /** Age of the value, ms, or null. */
  ageMs: number | null;
  /** Start lateness of the last run, ms (`stats.delay`). */
  latenessMs: number;
  /** 99th percentile of start lateness, ms; null before the first run. */
  latenessP99Ms: number | null;
  /** Busy fraction (`stats.usage`). */
  usage: number;
  /** Runs finished. */
  count: number;
  /** Runs failed. */
  errors: number;
  /** The last failure, or null. */
  lastError: LastErrorSnapshot | null;
  /** Whether the last run failed. */
  failing: boolean;
  /** Whether the value is older than its expiry. */
  stale: boolean;
}

function stateOf(c: { state: LifecycleState }, detail: ItemSnapshot['detail']): string {
  const state = detail?.['state'];
  if (typeof state === 'string') return state;
  if (detail?.['done'] === true) return 'done';
  if (detail?.['paused'] === true) return 'paused';
  return c.state;
}

function row(
  c: ComponentSnapshot,
  key: string,
  stats: StatsSnapshot,
  o: Overview,
  detail: ItemSnapshot['detail'],
): DiagnosticsRow {
  return {
    component: c.name,
    kind: c.kind,
    key,
    state: stateOf(c, detail),
    periodMs: o.periodMs,
    ageMs: o.ageMs,
    latenessMs: stats.delay,
    latenessP99Ms: stats.lateness.count > 0 ? stats.lateness.p99 : null,
    usage: stats.usage,
    count: stats.count,
    errors: stats.errors,
    lastError: stats.lastError,
    failing: o.failing,
    stale: o.stale,
  };
}

/**
 * Orders rows latest first: by the last start's lateness, then p99 lateness,
 * then errors, then component and key names, so the order is total and stable.
 */
export function byLateness(a: DiagnosticsRow, b: DiagnosticsRow): number {
  return (
    b.latenessMs - a.latenessMs ||
    (b.latenessP99Ms ?? -1) - (a.latenessP99Ms ?? -1) ||
    b.errors - a.errors ||
    a.component.localeCompare(b.component) ||
    a.key.localeCompare(b.key)
  );
}

/**
 * Every schedulable thing in `doc` as a {@link DiagnosticsRow}, in snapshot
 * order: each item of each component, and each component that has no items
 * as a row of its own (with key `''`). The dashboard page builds the same
 * rows in the browser.
 */
export function snapshotRows(doc: DiagnosticsSnapshot): DiagnosticsRow[] {
  const rows: DiagnosticsRow[] = [];
  for (const c of doc.components) {
    if (c.items === undefined) rows.push(row(c, '', c.stats, c.overview, undefined));
    else
      for (const item of c.items)
        rows.push(row(c, item.name, item.stats, item.overview, item.detail));
  }
  return rows;
}
