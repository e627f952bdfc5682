import type { JsonValue, StatsSnapshot } from '@tickwork/core';
import type { Overview } from './diagnosticsSnapshot.js';

/** The `detail` shape of {@link ComponentDiagnostics} and {@link ItemDiagnostics}. */
type Detail = { readonly [key: string]: JsonValue } | undefined;

/**
 * `detail[key]` when it is a finite number; `null` when present but null;
 * `undefined` when absent or of another type. Detail is free-form JSON that
 * each component kind fills as it likes, so nothing is assumed about it.
 * @internal
 */
export function detailNumber(detail: Detail, key: string): number | null | undefined {
  const v = detail?.[key];
  if (v === null) return null;
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** `detail[key]` when it is a boolean, else `undefined`. @internal */
export function detailBoolean(detail: Detail, key: string): boolean | undefined {
  const v = detail?.[key];
  return typeof v === 'boolean' ? v : undefined;
}

function ageOf(stats: StatsSnapshot, detail: Detail, takenAt: number): number | null {
  const age = detailNumber(detail, 'ageMs');
  // A ThreadDict key reports `ageMs: null` before its first value: keep that.
  if (age !== undefined) return age;
  const sampledAt = detailNumber(detail, 'sampledAt');
  if (sampledAt != null) return Math.max(0, takenAt - sampledAt);
  if (stats.lastSuccess !== null) return Math.max(0, takenAt - stats.lastSuccess);
  return null;
}

function isFailing(stats: StatsSnapshot, detail: Detail): boolean {
  const consecutive = detailNumber(detail, 'consecutiveErrors');
  if (consecutive != null) return consecutive > 0;
  const e = stats.lastError;
  return e !== null && (stats.lastSuccess === null || e.at >= stats.lastSuccess);
}

function isStale(detail: Detail): boolean {
  const stale = detailBoolean(detail, 'stale');
  if (stale !== undefined) return stale;
  const age = detailNumber(detail, 'ageMs');
  const expire = detailNumber(detail, 'expireMs');
  return age != null && expire != null && age > expire;
}

/**
 * The kind-independent {@link Overview} of one component or item at `takenAt`
 * (epoch ms), from its Stats and whatever of the known detail fields it reports.
 * @internal
 */
export function overview(stats: StatsSnapshot, detail: Detail, takenAt: number): Overview {
  return {
    periodMs: detailNumber(detail, 'periodMs') ?? null,
    ageMs: ageOf(stats, detail, takenAt),
    failing: isFailing(stats, detail),
    stale: isStale(detail),
  };
}
