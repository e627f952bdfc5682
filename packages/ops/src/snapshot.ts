import {
  type Clock,
  type ComponentDiagnostics,
  ConfigError,
  checkOptions,
  globalRegistry,
  type Registry,
  systemClock,
} from '@tickwork/core';
import {
  type ComponentSnapshot,
  DIAGNOSTICS_SCHEMA,
  type DiagnosticsSnapshot,
  type ProcessInfo,
} from './diagnosticsSnapshot.js';
import { overview } from './overview.js';

/** Options of {@link snapshot}. */
export interface SnapshotOptions {
  /**
   * Where `takenAt` (and ages derived from `stats.lastSuccess`) come from.
   * Pass the clock the components run on when it is not the system clock
   * (a `VirtualClock` in tests). @defaultValue `systemClock`
   */
  clock?: Clock;
}

function processInfo(): ProcessInfo {
  const m = process.memoryUsage();
  return {
    pid: process.pid,
    uptimeMs: Math.round(process.uptime() * 1000),
    node: process.version,
    memory: {
      rss: m.rss,
      heapTotal: m.heapTotal,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
    },
  };
}

function componentSnapshot(c: ComponentDiagnostics, takenAt: number): ComponentSnapshot {
  const { items, ...rest } = c;
  const out: ComponentSnapshot = { ...rest, overview: overview(c.stats, c.detail, takenAt) };
  if (items !== undefined) {
    out.items = items.map((item) => ({
      ...item,
      overview: overview(item.stats, item.detail, takenAt),
    }));
  }
  return out;
}

/**
 * A versioned JSON document of every live component in `registry`: its
 * lifecycle state, Stats, detail and per-item diagnostics (ThreadDict keys,
 * worker targets, cron jobs), each with a kind-independent
 * {@link Overview}, plus the process's pid, uptime and memory.
 *
 * The result is plain data: `JSON.stringify` it as is.
 *
 * @example
 * ```ts
 * import { snapshot } from '@tickwork/ops';
 * const doc = snapshot();
 * const failing = doc.components.flatMap((c) => c.items ?? []).filter((i) => i.overview.failing);
 * ```
 *
 * @param registry - the components to report @defaultValue `globalRegistry`
 * @param options - see {@link SnapshotOptions}
 * @throws ConfigError when `registry` is not a `Registry`
 */
export function snapshot(
  registry: Registry = globalRegistry,
  options: SnapshotOptions = {},
): DiagnosticsSnapshot {
  // Duck-typed: a second copy of @tickwork/core (dist next to src) has its own class.
  if (typeof (registry as Partial<Registry> | null)?.snapshot !== 'function') {
    throw new ConfigError('snapshot: registry must be a Registry from @tickwork/core', 'registry');
  }
  const o = checkOptions('snapshot', 'options', options);
  const takenAt = (o.clock ?? systemClock).now();
  const { components } = registry.snapshot(takenAt);
  return {
    schema: DIAGNOSTICS_SCHEMA,
    takenAt,
    process: processInfo(),
    components: components.map((c) => componentSnapshot(c, takenAt)),
  };
}
