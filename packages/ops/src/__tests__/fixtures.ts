import {
  type Clock,
  type ComponentDiagnostics,
  type HistogramSnapshot,
  type ItemDiagnostics,
  type JsonValue,
  Lifecycle,
  type Registry,
  Stats,
  type StatsSnapshot,
} from '@tickwork/core';

const EMPTY_HISTOGRAM: HistogramSnapshot = {
  count: 0,
  min: 0,
  mean: 0,
  p50: 0,
  p90: 0,
  p99: 0,
  max: 0,
};

/** A hand-set StatsSnapshot: zeros and nulls except what is given. */
export function statsOf(partial: Partial<StatsSnapshot> = {}): StatsSnapshot {
  return {
    count: 0,
    errors: 0,
    lastError: null,
    lastSuccess: null,
    delay: 0,
    accDelay: 0,
    avgDelay: 0,
    usage: 0,
    next: null,
    last: null,
    started: null,
    skipped: 0,
    missed: 0,
    running: 0,
    duration: EMPTY_HISTOGRAM,
    lateness: EMPTY_HISTOGRAM,
    ...partial,
  };
}

/** A histogram snapshot with every field given explicitly, in ms. */
export function hist(
  count: number,
  min: number,
  mean: number,
  p50: number,
  p90: number,
  p99: number,
  max: number,
): HistogramSnapshot {
  return { count, min, mean, p50, p90, p99, max };
}

type Detail = { [key: string]: JsonValue };

/** A component whose diagnostics are whatever the test sets. */
export class FixtureComponent extends Lifecycle {
  stats: StatsSnapshot;
  items: ItemDiagnostics[] | undefined;
  detail: Detail | undefined;

  constructor(
    kind: string,
    options: {
      name: string;
      registry: Registry;
      clock?: Clock;
      stats?: StatsSnapshot;
      items?: ItemDiagnostics[];
      detail?: Detail;
    },
  ) {
    super(kind, {
      name: options.name,
      registry: options.registry,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    this.stats = options.stats ?? statsOf();
    this.items = options.items;
    this.detail = options.detail;
  }

  diagnostics(): ComponentDiagnostics {
    const d: ComponentDiagnostics = {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.stats,
    };
    if (this.items !== undefined) d.items = this.items;
    if (this.detail !== undefined) d.detail = this.detail;
    return d;
  }

  protected onStart(): void {}
  protected onStop(): void {}
  protected onKill(): void {}
  protected whenIdle(): Promise<void> {
    return Promise.resolve();
  }
}

/** One key of a {@link SimPoller}. */
interface SimKey {
  readonly name: string;
  readonly periodMs: number;
  /** Added to each start's lateness, ms: how late this key's reads start. */
  lagMs: number;
  /** Each read's duration, ms. */
  readMs: number;
  /** When set, reads fail with it. */
  failWith: Error | undefined;
  readonly stats: Stats;
  sampledAt: number;
  consecutiveErrors: number;
}

/**
 * A tiny ThreadDict look-alike on the core scheduler: keys polled at their
 * period in (virtual) time by reads that take `readMs`, count `lagMs` of
 * lateness and fail on demand. Reports itself as kind `ThreadDict` with the detail the real
 * one carries, so the ops views see what they will see in production.
 */
export class SimPoller extends Lifecycle {
  private readonly keys = new Map<string, SimKey>();
  private readonly totals = new Stats(0);
  private readonly timers: Array<{ cancel(): void }> = [];
  private readonly reads = new Set<{ cancel(): void }>();

  constructor(options: { name: string; registry: Registry; clock: Clock }) {
    super('ThreadDict', options);
  }

  add(name: string, periodMs: number, options: { lagMs?: number; readMs?: number } = {}): this {
    this.keys.set(name, {
      name,
      periodMs,
      lagMs: options.lagMs ?? 0,
      readMs: options.readMs ?? 1,
      failWith: undefined,
      stats: new Stats(periodMs),
      sampledAt: Number.NaN,
      consecutiveErrors: 0,
    });
    return this;
  }

  /** Makes `key`'s reads fail with `error` (or succeed again with `undefined`). */
  fail(key: string, error: Error | undefined): void {
    this.keys.get(key)!.failWith = error;
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.totals.reset(now);
    for (const key of this.keys.values()) {
      key.stats.reset(now);
      const timer = this.scheduler.createTimer((slot) => this.poll(key, slot.dueAt, slot.firedAt));
      timer.schedule(now + key.periodMs, key.periodMs);
      this.timers.push(timer);
    }
  }

  /** Starts a read at `firedAt` that ends `readMs` later; `lagMs` is added to its lateness. */
  private poll(key: SimKey, dueAt: number, firedAt: number): void {
    key.stats.runStarted(dueAt - key.lagMs, firedAt);
    this.totals.runStarted(dueAt - key.lagMs, firedAt);
    const done = this.scheduler.at(firedAt + key.readMs, () => {
      this.reads.delete(done);
      const failed = key.failWith !== undefined;
      key.stats.runFinished(firedAt, key.readMs, failed, key.failWith);
      this.totals.runFinished(firedAt, key.readMs, failed, key.failWith);
      if (failed) key.consecutiveErrors++;
      else {
        key.consecutiveErrors = 0;
        key.sampledAt = firedAt + key.readMs;
      }
    });
    this.reads.add(done);
  }

  protected onStop(): void {
    for (const t of this.timers.splice(0)) t.cancel();
  }

  protected onKill(): void {
    this.onStop();
    for (const r of this.reads) r.cancel();
    this.reads.clear();
  }

  protected whenIdle(): Promise<void> {
    return Promise.resolve();
  }

  diagnostics(): ComponentDiagnostics {
    const now = this.clock.now();
    const items: ItemDiagnostics[] = [...this.keys.values()].map((k) => {
      const hasValue = !Number.isNaN(k.sampledAt);
      return {
        name: k.name,
        stats: k.stats.snapshot(),
        detail: {
          state: this.state === 'running' ? 'idle' : 'stopped',
          periodMs: k.periodMs,
          expireMs: 4 * k.periodMs,
          sampledAt: hasValue ? k.sampledAt : null,
          ageMs: hasValue ? now - k.sampledAt : null,
          consecutiveErrors: k.consecutiveErrors,
        },
      };
    });
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.totals.snapshot(),
      items,
      detail: { size: this.keys.size },
    };
  }
}

/** Epoch ms all known-registry fixtures are set around: 2026-01-01T00:00:00Z. */
export const T0 = Date.UTC(2026, 0, 1);

/**
 * A registry with one component of each kind and hand-set Stats, so every
 * number the ops views show is known: a ThreadDict `plant` with a healthy, a
 * failing and a stale key, a ThreadedObject `heartbeat`, a WorkerProcess
 * `analysis`, a CronTab `snapshots` and an idle component of an unknown kind.
 */
export function knownComponents(registry: Registry, clock: Clock): FixtureComponent[] {
  const timeout = {
    name: 'TimeoutError',
    message: 'read timed out after 50 ms',
    code: 'ERR_TIMEOUT',
    at: T0 - 200,
  };
  const plant = new FixtureComponent('ThreadDict', {
    name: 'plant',
    registry,
    clock,
    stats: statsOf({
      count: 30,
      errors: 4,
      lastError: timeout,
      lastSuccess: T0 - 50,
      delay: 3,
      usage: 0.25,
      skipped: 2,
      missed: 1,
      running: 1,
      duration: hist(30, 1, 4, 3, 8, 9, 10),
      lateness: hist(30, 0, 2, 1, 5, 12, 20),
    }),
    detail: { size: 3, periodMs: 1000 },
    items: [
      {
        name: 'sys/tg/1/temperature',
        stats: statsOf({
          count: 20,
          delay: 1,
          usage: 0.05,
          lastSuccess: T0 - 50,
          lateness: hist(20, 0, 1, 1, 2, 3, 3),
        }),
        detail: { state: 'idle', periodMs: 100, expireMs: 400, ageMs: 50, consecutiveErrors: 0 },
      },
      {
        name: 'sys/ps/1/current',
        stats: statsOf({
          count: 8,
          errors: 4,
          delay: 12,
          usage: 0.6,
          lastError: timeout,
          lastSuccess: T0 - 2000,
        }),
        detail: {
          state: 'backoff',
          periodMs: 500,
          expireMs: 2000,
          ageMs: 2000,
          consecutiveErrors: 4,
        },
      },
      {
        name: 'sys/ps/1/voltage',
        stats: statsOf({ count: 2, delay: 7, usage: 0.01, lastSuccess: T0 - 6000 }),
        detail: {
          state: 'idle',
          periodMs: 2000,
          expireMs: 5000,
          ageMs: 6000,
          consecutiveErrors: 0,
        },
      },
    ],
  });
  const heartbeat = new FixtureComponent('ThreadedObject', {
    name: 'heartbeat',
    registry,
    clock,
    stats: statsOf({
      count: 5,
      delay: 0.5,
      usage: 0.002,
      lastSuccess: T0 - 400,
      duration: hist(5, 2, 2, 2, 2, 2, 2),
    }),
    detail: { periodMs: 1000 },
  });
  const analysis = new FixtureComponent('WorkerProcess', {
    name: 'analysis',
    registry,
    clock,
    stats: statsOf({
      count: 12,
      errors: 2,
      lastSuccess: T0 - 100,
      usage: 0.5,
      duration: hist(12, 10, 20, 18, 30, 40, 40),
      lateness: hist(12, 0, 5, 4, 9, 10, 10),
    }),
    detail: {
      counts: {
        queued: 4,
        running: 1,
        completed: 10,
        failed: 1,
        canceled: 2,
        timedOut: 1,
        utilization: 0.5,
      },
    },
    items: [
      {
        name: 'waveformStats',
        stats: statsOf({ count: 12, errors: 2, lastSuccess: T0 - 100 }),
        detail: { queued: 4 },
      },
    ],
  });
  const snapshots = new FixtureComponent('CronTab', {
    name: 'snapshots',
    registry,
    clock,
    stats: statsOf({ count: 3, lastSuccess: T0 - 60_000, lateness: hist(3, 1, 2, 2, 3, 3, 3) }),
    items: [
      {
        name: 'write-snapshot',
        stats: statsOf({ count: 3, lastSuccess: T0 - 60_000, next: T0 + 60_000 }),
        detail: { expression: '* * * * *', tz: null, paused: false, done: false, runs: 3 },
      },
    ],
  });
  const bridge = new FixtureComponent('Bridge', { name: 'bridge', registry, clock });
  for (const c of [plant, heartbeat, analysis, snapshots]) c.start();
  return [plant, heartbeat, analysis, snapshots, bridge];
}
