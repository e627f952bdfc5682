/**
 * A snapshot of one key of a `ClusterThreadDict`, as `entry(key)` and
 * `watch(key)` give it: the value every node sees (the last one published
 * through Redis, or sampled here), with its sample time.
 */
export interface ClusterEntry<V> {
  /** The key. */
  readonly key: string;
  /** The shard the key hashes into (see `shardOf`). */
  readonly shard: number;
  /** The last good value, or `undefined` when no node has published one yet. */
  readonly value: V | undefined;
  /** Whether the key has a value at all (a value may itself be `null`). */
  readonly hasValue: boolean;
  /**
   * When the value was sampled by the node that polled it, epoch ms (that
   * node's clock); null without a value. An unchanged value's sample time is
   * re-published at least every `expireMs / 2`, so it may lag the polling
   * node's last read by that much.
   */
  readonly sampledAt: number | null;
  /** When the value expires, epoch ms; null without a value, `Infinity` when it never does. */
  readonly expiresAt: number | null;
  /** Whether the value is missing or expired: `get` would throw `ExpiredError`. */
  readonly stale: boolean;
}

/** Options of `ClusterThreadDict.append`. Give every node the same ones. */
export interface ClusterAppendOptions {
  /** Polling period of this key, ms. @defaultValue the dict's `periodMs` */
  periodMs?: number;
  /**
   * Age after which this key's value expires, ms (`Infinity`: never); also
   * its TTL in Redis. @defaultValue the dict's `expireMs` (4 x this key's period)
   */
  expireMs?: number;
  /** Read timeout of this key, ms. @defaultValue the dict's `timeoutMs` (this key's `expireMs`) */
  timeoutMs?: number;
}

/** Options of `ClusterThreadDict.get`. */
export interface ClusterGetOptions {
  /**
   * Return the last value even when it is older than `expireMs` (a key with
   * no value at all still throws). @defaultValue false
   */
  allowStale?: boolean;
}

/** Where one shard's lease stands, as this node sees it. */
export interface ShardLeaseInfo {
  /** Shard number, 0 to `shards - 1`. */
  readonly shard: number;
  /** Keys of this node in the shard. */
  readonly keys: number;
  /** Whether this node holds the lease (polls the shard) now. */
  readonly held: boolean;
  /** Slot time of the lease window this node holds, epoch ms, or null. */
  readonly slot: number | null;
  /** When that window ends (the next slot), epoch ms, or null. */
  readonly until: number | null;
  /** Node id of the last claim of this shard heard of (this node's included), or null. */
  readonly owner: string | null;
  /** Slot time of that claim, epoch ms, or null. */
  readonly ownerSlot: number | null;
  /** Leases of this shard taken by this node since the last start (continuations excluded). */
  readonly acquired: number;
  /** Windows of this shard this node held straight on from its previous one. */
  readonly continued: number;
  /** Leases of this shard this node lost to another node's claim (or a lost BullMQ lock). */
  readonly lost: number;
  /** Leases of this shard that ran out with no next window taken by this node. */
  readonly lapsed: number;
}
