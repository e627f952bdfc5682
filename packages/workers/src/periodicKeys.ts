import {
  type Clock,
  type ItemDiagnostics,
  KeyNotFoundError,
  type Logger,
  type Scheduler,
} from '@tickwork/core';
import { KeyDataView } from './keyDataView.js';
import { type FireFn, PeriodicKey } from './periodicKey.js';
import type { ParsedAdd } from './requestOptions.js';

/**
 * The keys of `WorkerProcess.add`: one {@link PeriodicKey} each, armed and
 * disarmed with the pool, and the `data` view over their values.
 * @internal
 */
export class PeriodicKeys {
  private readonly keys = new Map<string, PeriodicKey>();
  private readonly label: string;
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly logger: Logger;
  private readonly fire: FireFn;
  /** See `WorkerProcess.data`. */
  readonly data: ReadonlyMap<string, unknown>;

  constructor(label: string, clock: Clock, scheduler: Scheduler, logger: Logger, fire: FireFn) {
    this.label = label;
    this.clock = clock;
    this.scheduler = scheduler;
    this.logger = logger;
    this.fire = fire;
    this.data = new KeyDataView(this.keys, () => clock.now());
  }

  /** Adds or updates a key; with `arm`, its first run is due now. */
  add(key: string, target: string, args: unknown, options: ParsedAdd<unknown>, arm: boolean): void {
    let periodic = this.keys.get(key);
    if (periodic === undefined) {
      periodic = new PeriodicKey(
        key,
        target,
        args,
        options,
        this.scheduler,
        this.fire,
        this.logger,
      );
      this.keys.set(key, periodic);
    } else {
      periodic.update(target, args, options);
    }
    if (arm) periodic.arm(this.clock.now());
  }

  /** Removes a key; returns it (its requests may need canceling), or undefined. */
  remove(key: string): PeriodicKey | undefined {
    const periodic = this.keys.get(key);
    if (periodic === undefined) return undefined;
    this.keys.delete(key);
    periodic.dispose();
    return periodic;
  }

  /** The key, or `KeyNotFoundError`. */
  get(key: string): PeriodicKey {
    const periodic = this.keys.get(key);
    if (periodic === undefined) {
      throw new KeyNotFoundError(
        key,
        `${this.label}: key "${key}" was never added (or was removed)`,
      );
    }
    return periodic;
  }

  /** Every key's slots from `now` on (start and resume run them at once). */
  armAll(now: number): void {
    for (const periodic of this.keys.values()) periodic.arm(now);
  }

  /** Stops every key's slots; running refreshes finish. */
  disarmAll(): void {
    for (const periodic of this.keys.values()) periodic.disarm();
  }

  /** Ends every key for good (kill). */
  disposeAll(): void {
    for (const periodic of this.keys.values()) periodic.dispose();
    this.keys.clear();
  }

  /** Zeroes every key's counters. */
  resetStats(now: number): void {
    for (const periodic of this.keys.values()) periodic.stats.reset(now);
  }

  /** One diagnostics item per key. */
  items(now: number): ItemDiagnostics[] {
    const items: ItemDiagnostics[] = [];
    for (const [name, k] of this.keys) {
      const e = k.entry(now);
      items.push({
        name: `key:${name}`,
        stats: k.stats.snapshot(),
        detail: {
          kind: 'key',
          target: k.target,
          periodMs: e.periodMs,
          expireMs: k.options.expireMs,
          overrun: k.options.overrun,
          ageMs: e.sampledAt === null ? null : now - e.sampledAt,
          stale: e.stale,
          lastError: e.error === null ? null : `${e.error.name}: ${e.error.message}`,
        },
      });
    }
    return items;
  }
}
