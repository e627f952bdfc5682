import type { ItemDiagnostics, Logger } from '@tickwork/core';
import { CachedKey } from '@tickwork/workers';
import type { ClusterOutcome } from './clusterRequestInfo.js';
import type { ParsedClusterAdd } from './clusterRequestOptions.js';

/**
 * @internal one key of `ClusterWorkerProcess.add` on one client: the
 * expiring cached value fed by the `completed` events of the key's
 * scheduler jobs (and seeded from the value its last node stored), the
 * key's `Stats` and its `watch` stream.
 */
export class ClusterWorkerKey extends CachedKey<ParsedClusterAdd> {
  constructor(
    key: string,
    target: string,
    args: unknown,
    options: ParsedClusterAdd,
    logger: Logger,
  ) {
    super(key, target, args, options, 'ClusterWorkerProcess', logger);
  }

  /** The value stored by the node of the last successful run, when this client has none newer. */
  seed(value: unknown, sampledAt: number, now: number): void {
    if (this.removed || (this.hasValue && this.sampledAt >= sampledAt)) return;
    this.value = value;
    this.hasValue = true;
    this.sampledAt = sampledAt;
    this.emit(now);
  }

  /** A run of the key (slot `slotMs`) ended with `outcome`. */
  ran(outcome: ClusterOutcome, slotMs: number, now: number): void {
    if (this.removed) return;
    const failed = outcome.state !== 'completed';
    const finishedAt = outcome.finishedAt ?? now;
    if (outcome.startedAt !== undefined) {
      this.stats.runStarted(slotMs, outcome.startedAt);
      this.stats.runFinished(
        outcome.startedAt,
        finishedAt - outcome.startedAt,
        failed,
        outcome.error,
      );
    }
    this.stats.next = slotMs + this.options.periodMs;
    // Runs of one key may overlap on two nodes: the newest sample wins.
    const newer = !this.hasValue || finishedAt >= this.sampledAt;
    this.settled(failed, outcome.value, outcome.error, finishedAt, newer);
  }

  /** Diagnostics item `key:<name>`. */
  item(now: number): ItemDiagnostics {
    const age = this.hasValue ? now - this.sampledAt : null;
    return {
      name: `key:${this.key}`,
      stats: this.stats.snapshot(),
      detail: {
        target: this.target,
        periodMs: this.options.periodMs,
        expireMs: this.options.expireMs,
        ageMs: age,
        lastError: this.error === null ? null : this.error.message,
      },
    };
  }
}
