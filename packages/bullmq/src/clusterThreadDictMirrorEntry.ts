import type { Subject } from 'rxjs';
import type { ClusterAppendOptions, ClusterEntry } from './clusterThreadDictTypes.js';

/** Nothing to publish. @internal */
export const CLEAN = 0;
/** Publish the value. @internal */
export const FULL = 1;
/** Re-store an unchanged value in Redis with a newer sample time (TTL keepalive). @internal */
export const REFRESH = 2;

/** Least TTL of a value in Redis, ms: unchanged values are re-stored every half of it. */
const MIN_TTL_MS = 30_000;

/** One key of the mirror. @internal */
export class MirrorEntry<V> {
  value: V | undefined = undefined;
  hasValue = false;
  /** Sample time of `value` as published (last writer wins on it), epoch ms; NaN without one. */
  sampledAt = Number.NaN;
  /** Lower bound of the last sample from a shard confirmation, epoch ms. */
  confirmedAt = Number.NEGATIVE_INFINITY;
  /** Last epoch ms at which `value` is fresh, from the two times above. */
  freshUntil = Number.NEGATIVE_INFINITY;
  /** The mirror's sequence number when `value` was set. */
  setSeq = 0;
  /** Sample time known to be stored in Redis (a keepalive's base); NaN when unknown. */
  storedAt = Number.NaN;
  /** What the next flush publishes: CLEAN, FULL or REFRESH. */
  dirty = CLEAN;
  /** When the sweep looks at this key again (polled shards only), epoch ms. */
  checkAt = 0;
  /** Polled here: `value` is this node's latest local sample (so it may be confirmed). */
  local = false;
  /** Polled here: the last local read failed (so it is not confirmed). */
  failing = false;
  removed = false;
  subject: Subject<ClusterEntry<V>> | undefined = undefined;
  private json: string | undefined = undefined;

  constructor(
    readonly key: string,
    readonly shard: number,
    /** The key's append options as given (passed on to the shard's ThreadDict). */
    public options: ClusterAppendOptions,
    public periodMs: number,
    public expireMs: number,
  ) {}

  /** The key as a JSON string, made once. */
  get keyJson(): string {
    if (this.json === undefined) this.json = JSON.stringify(this.key);
    return this.json;
  }

  /** TTL of the value in Redis, ms; 0 for none (a value that never expires). */
  get ttlMs(): number {
    return Number.isFinite(this.expireMs) ? Math.ceil(Math.max(this.expireMs, MIN_TTL_MS)) : 0;
  }

  /** How often an unchanged value is re-stored in Redis, ms. */
  get keepaliveMs(): number {
    return Number.isFinite(this.expireMs) ? this.ttlMs / 2 : Number.POSITIVE_INFINITY;
  }
}
