import type { JsonValue } from '@tickwork/core';
import type { ComponentSnapshot } from './diagnosticsSnapshot.js';
import { TASK_STATES } from './metricFamilies.js';

type Detail = { readonly [key: string]: JsonValue } | undefined;

/** A worker task's terminal state, as a label value. @internal */
export type TaskState = (typeof TASK_STATES)[number];

/** Detail keys each state may be reported under (camelCase is what workers' TargetCounts uses). */
const STATE_KEYS: Readonly<Record<TaskState, readonly string[]>> = {
  completed: ['completed'],
  failed: ['failed'],
  canceled: ['canceled', 'cancelled'],
  'timed-out': ['timedOut', 'timed-out', 'timed_out'],
};

/** Numbers may sit in detail itself or in a nested `counts` object. */
function lookup(detail: Detail, keys: readonly string[]): number | undefined {
  const nested = detail?.['counts'];
  const sources = [detail, isObject(nested) ? nested : undefined];
  for (const source of sources) {
    for (const key of keys) {
      const v = source?.[key];
      if (typeof v === 'number' && Number.isFinite(v)) return v;
    }
  }
  return undefined;
}

function isObject(v: JsonValue | undefined): v is { readonly [key: string]: JsonValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `keys` read from the component's detail, else summed over its items' detail. */
function fromDetail(c: ComponentSnapshot, keys: readonly string[]): number | undefined {
  const own = lookup(c.detail, keys);
  if (own !== undefined) return own;
  let sum: number | undefined;
  for (const item of c.items ?? []) {
    const v = lookup(item.detail, keys);
    if (v !== undefined) sum = (sum ?? 0) + v;
  }
  return sum;
}

/**
 * Settled tasks by terminal state, read generically from detail (component,
 * else the sum of its items); when no state is reported at all, completed and
 * failed come from the Stats (`count - errors`, `errors`).
 * @internal
 */
export function taskCounts(c: ComponentSnapshot): Record<TaskState, number> {
  const found = TASK_STATES.map((s) => fromDetail(c, STATE_KEYS[s]));
  if (found.every((v) => v === undefined)) {
    return {
      completed: Math.max(0, c.stats.count - c.stats.errors),
      failed: c.stats.errors,
      canceled: 0,
      'timed-out': 0,
    };
  }
  const [completed = 0, failed = 0, canceled = 0, timedOut = 0] = found;
  return { completed, failed, canceled, 'timed-out': timedOut };
}

/** Requests waiting in the queue, when the component or its items report it. @internal */
export function queueSize(c: ComponentSnapshot): number | undefined {
  return fromDetail(c, ['queueSize', 'queued']);
}

/** Share of the pool's thread time in use, 0..1, when the component reports it. @internal */
export function utilization(c: ComponentSnapshot): number | undefined {
  return lookup(c.detail, ['utilization']);
}
