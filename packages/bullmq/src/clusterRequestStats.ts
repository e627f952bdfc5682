import type { ItemDiagnostics } from '@tickwork/core';
import { OutcomeCounts, type TerminalState } from '@tickwork/workers';

/**
 * @internal the workers' {@link OutcomeCounts} of one target (or of all),
 * where `duration` is the run time on a node and `lateness` the queue wait,
 * plus the runs handed back when a node was killed.
 */
export class ClusterTargetCounter extends OutcomeCounts {
  /** Runs given back to the queue when the node was killed. */
  handedBack = 0;

  /** Zeroes the counters, hand-backs included. */
  override reset(now: number): void {
    super.reset(now);
    this.handedBack = 0;
  }

  /** The counts as plain data. */
  detail(): { [key: string]: number } {
    return {
      queued: this.queued,
      running: this.running,
      completed: this.completed,
      failed: this.failed,
      canceled: this.canceled,
      timedOut: this.timedOut,
      coalesced: this.coalesced,
      handedBack: this.handedBack,
    };
  }
}

/** @internal per-target counters plus their totals */
export class ClusterTargetStats {
  readonly totals = new ClusterTargetCounter();
  private readonly byTarget = new Map<string, ClusterTargetCounter>();
  private startedAt: number;

  constructor(now: number) {
    this.startedAt = now;
    this.totals.reset(now);
  }

  /** Zeroes every counter (a new run period starts). */
  reset(now: number): void {
    this.startedAt = now;
    this.totals.reset(now);
    for (const c of this.byTarget.values()) c.reset(now);
  }

  /** Counters of `target` and of the totals, updated together. */
  of(target: string): TargetRecorder {
    return new TargetRecorder([this.counter(target), this.totals]);
  }

  /**
   * Sets the current `queued` / `running` counts from the requests in
   * flight (a client counts its own; a node counts live instead).
   */
  setLoad(requests: Iterable<{ readonly target: string; readonly running: boolean }>): void {
    for (const c of [this.totals, ...this.byTarget.values()]) {
      c.queued = 0;
      c.running = 0;
    }
    for (const r of requests) {
      for (const c of [this.counter(r.target), this.totals]) {
        if (r.running) c.running++;
        else c.queued++;
      }
    }
  }

  private counter(target: string): ClusterTargetCounter {
    let c = this.byTarget.get(target);
    if (c === undefined) {
      c = new ClusterTargetCounter();
      c.reset(this.startedAt);
      this.byTarget.set(target, c);
    }
    return c;
  }

  /** One item per target, `target:<name>`. */
  items(): ItemDiagnostics[] {
    return [...this.byTarget].map(([name, c]) => ({
      name: `target:${name}`,
      stats: c.stats.snapshot(),
      detail: c.detail(),
    }));
  }
}

/** @internal updates a target's counters and the totals at once */
export class TargetRecorder {
  private readonly counters: readonly ClusterTargetCounter[];

  constructor(counters: readonly ClusterTargetCounter[]) {
    this.counters = counters;
  }

  /** Adds `n` to the queued count (negative to remove). */
  queued(n: number): void {
    for (const c of this.counters) c.queued += n;
  }

  /** A send joined an identical request. */
  coalesced(): void {
    for (const c of this.counters) c.coalesced++;
  }

  /** A run started at `startedAt`, ready since `readyAt`. */
  started(readyAt: number, startedAt: number): void {
    for (const c of this.counters) {
      c.running++;
      c.stats.runStarted(readyAt, startedAt);
    }
  }

  /** A run that started at `startedAt` ended at `finishedAt` in `state` (undefined: handed back). */
  finished(
    state: TerminalState | undefined,
    startedAt: number,
    finishedAt: number,
    error?: unknown,
  ): void {
    for (const c of this.counters) {
      if (c.running > 0) c.running--;
      c.stats.runFinished(startedAt, finishedAt - startedAt, state !== 'completed', error);
      if (state === undefined) c.handedBack++;
      else c.count(state);
    }
  }

  /**
   * A run seen only from its outcome (on a client): ready since `readyAt`,
   * ran from `startedAt` to `finishedAt` on a node, ended in `state`.
   */
  ran(
    state: TerminalState,
    readyAt: number,
    startedAt: number,
    finishedAt: number,
    error?: unknown,
  ): void {
    for (const c of this.counters) {
      c.stats.runStarted(readyAt, startedAt);
      c.stats.runFinished(startedAt, finishedAt - startedAt, state !== 'completed', error);
      c.count(state);
    }
  }

  /** An outcome without a run seen here (canceled while queued, or known only from its result). */
  settled(state: TerminalState): void {
    for (const c of this.counters) c.count(state);
  }
}
