import type { Logger } from '@tickwork/core';
import type { ValueStore } from './valueStore.js';

/**
 * Watches that every node of one `ClusterThreadDict` hashes keys into the
 * same shards on the same lease windows. A node configured otherwise would
 * poll some keys twice and none of others, and read the other nodes'
 * per-shard confirmations wrongly, so values would expire with no error
 * anywhere; this makes the mismatch loud (an error log and `layoutConflict`
 * in diagnostics) instead. The first layout in Redis stands while any node
 * renews it; it expires `TTL_WINDOWS` lease windows after its last node left.
 * @internal
 */
export class ShardLayoutCheck {
  /** How many lease windows the stored layout outlives its last renewal. */
  static readonly TTL_WINDOWS = 3;
  /** This node's layout, as stored: `shards=<n> leaseMs=<ms>`. */
  readonly layout: string;
  /** The other nodes' layout when it differs from this node's, else null. */
  conflict: string | null = null;
  private readonly ttlMs: number;

  constructor(
    private readonly store: ValueStore,
    shards: number,
    leaseMs: number,
    private readonly component: string,
    private readonly logger: Logger,
  ) {
    this.layout = `shards=${shards} leaseMs=${leaseMs}`;
    this.ttlMs = ShardLayoutCheck.TTL_WINDOWS * leaseMs;
  }

  /** Renews or compares the stored layout; logs when a conflict starts or ends. Never rejects. */
  async check(): Promise<void> {
    let stored: string | null;
    try {
      stored = await this.store.agreeLayout(this.layout, this.ttlMs);
    } catch (error) {
      // Redis unreachable: the reconnect runs the check again.
      this.logger.debug({ component: this.component, error }, 'layout check failed');
      return;
    }
    if (stored === this.conflict) return;
    const previous = this.conflict;
    this.conflict = stored;
    if (stored !== null) {
      this.logger.error(
        { component: this.component, layout: this.layout, cluster: stored },
        `layout conflict: this node has ${this.layout}, the other nodes ${stored}; every node of one dict needs the same shards and leaseMs`,
      );
    } else {
      this.logger.info(
        { component: this.component, layout: this.layout, was: previous },
        'layout conflict over: the other layout expired or changed',
      );
    }
  }
}
