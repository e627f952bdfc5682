import { type Clock, type Logger, Stats } from '@tickwork/core';
import type { ThreadDict } from '@tickwork/polling';
import type { ClusterThreadDictMirror } from './clusterThreadDictMirror.js';
import { CLEAN, FULL, type MirrorEntry, REFRESH } from './clusterThreadDictMirrorEntry.js';
import type { ShardLease } from './shardLeases.js';
import type { ValueStore } from './valueStore.js';

/** Entries per script call: bounded arguments and Redis time per call. */
const CHUNK = 512;
/** Keys per MGET when reading values back. */
const FETCH_CHUNK = 1000;
/** Longest wait before a key not yet confirmable on a polled shard is looked at again, ms. */
const RECHECK_MS = 250;
/** How often the keys of a polled shard are looked over for TTL keepalives, ms. */
const KEEPALIVE_PASS_MS = 1000;

/** Publish counters (JSON-safe). @internal */
export interface PublishCounters {
  /** Flushes that sent anything. */
  flushes: number;
  /** Script calls. */
  calls: number;
  /** Values sent in full (changed, or not stored in Redis). */
  changes: number;
  /** Unchanged values re-stored for their TTL. */
  refreshes: number;
  /** Shard confirmations sent. */
  confirmations: number;
  /** Keepalives sent again in full (Redis no longer held their base). */
  redo: number;
  /** Entries Redis refused: a newer sample was stored. */
  rejected: number;
  /** Values that could not be serialised (skipped). */
  unserializable: number;
  /** Script calls that failed (their entries are sent again). */
  failures: number;
  /** Values read back from Redis. */
  fetched: number;
}

/**
 * Sends this node's samples to Redis. Each flush:
 * 1. sweeps the polled shards for keys whose state the change stream does
 *    not tell: keys not yet sampled in this tenure, and unchanged values due
 *    for a TTL keepalive (every half TTL);
 * 2. sends every queued key in script calls of up to 512 entries, pipelined:
 *    a changed value in full, a keepalive as a refresh of its sample time;
 * 3. attaches one confirmation per polled shard (keys whose value is this
 *    node's latest sample, or the few that are not), which every node
 *    applies lazily: so unchanged values cost nothing per poll.
 * @internal
 */
export class ValueStorePublisher<V> {
  readonly counters: PublishCounters = {
    flushes: 0,
    calls: 0,
    changes: 0,
    refreshes: 0,
    confirmations: 0,
    redo: 0,
    rejected: 0,
    unserializable: 0,
    failures: 0,
    fetched: 0,
  };
  /** One run per flush that sent something: duration = publish latency. */
  readonly stats = new Stats();
  private flushing = false;
  private readonly keepaliveAt: number[] = [];

  constructor(
    private readonly mirror: ClusterThreadDictMirror<V>,
    private readonly store: ValueStore,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Sweeps, reads back missed values, publishes. Never rejects. */
  async flush(leases: readonly ShardLease<V>[]): Promise<void> {
    if (this.flushing || !this.store.connected) return;
    this.flushing = true;
    try {
      const now = this.clock.now();
      this.sweep(leases, now);
      const missed = this.mirror.takeFetch();
      if (missed.length > 0) await this.resync(missed);
      await this.publish(this.mirror.takeDirty(), leases, this.clock.now());
    } catch (error) {
      this.logger.warn({ error }, 'ClusterThreadDict: flush failed');
    } finally {
      this.flushing = false;
    }
  }

  /** Reads the stored values of `entries` from Redis into the mirror. */
  async resync(entries: readonly MirrorEntry<V>[]): Promise<void> {
    const calls: Promise<void>[] = [];
    for (let i = 0; i < entries.length; i += FETCH_CHUNK) {
      const chunk = entries.slice(i, i + FETCH_CHUNK);
      calls.push(
        this.store.fetch(chunk.map((e) => e.keyJson)).then((stored) => {
          for (let j = 0; j < chunk.length; j++) {
            const e = chunk[j]!;
            if (!e.removed) this.mirror.applyStored(e, stored[j] ?? null);
          }
          this.counters.fetched += chunk.length;
        }),
      );
    }
    await Promise.all(calls);
  }

  /**
   * Keys of the polled shards the change stream says nothing about: those
   * not yet vouched for (every flush, at most every half period), and, once
   * a second, unchanged values due for their TTL keepalive.
   */
  private sweep(leases: readonly ShardLease<V>[], now: number): void {
    for (const lease of leases) {
      const dict = lease.dict;
      if (!lease.held || dict === undefined) continue;
      for (const e of this.mirror.unvouched[lease.shard]!) {
        if (now >= e.checkAt) this.check(e, dict, now);
      }
      if (now >= (this.keepaliveAt[lease.shard] ?? 0)) {
        this.keepaliveAt[lease.shard] = now + KEEPALIVE_PASS_MS;
        for (const e of this.mirror.byShard[lease.shard]!) {
          if (e.local && now >= e.checkAt) this.check(e, dict, now);
        }
      }
    }
  }

  /** Compares one key's local entry with the mirror. */
  private check(e: MirrorEntry<V>, dict: ThreadDict<V>, now: number): void {
    e.checkAt = now + Math.min(e.periodMs / 2, RECHECK_MS);
    if (!dict.has(e.key)) return;
    const entry = dict.entry(e.key);
    this.mirror.setFailing(e, entry.status === 'error');
    if (!entry.hasValue || entry.sampledAt === null) return;
    if (!e.local || !this.mirror.equals(e.value as V, entry.value as V)) {
      this.mirror.applyLocal(e, entry.value as V, entry.sampledAt);
    } else if (entry.sampledAt > e.sampledAt && !(now - e.storedAt < e.keepaliveMs)) {
      // Unchanged: re-store it (newer sample time) before its TTL runs out.
      e.sampledAt = entry.sampledAt;
      e.freshUntil = Math.max(e.sampledAt, e.confirmedAt) + e.expireMs;
      this.mirror.markDirty(e, REFRESH);
    }
    if (e.local) e.checkAt = now + e.keepaliveMs / 2;
  }

  private async publish(
    queued: readonly MirrorEntry<V>[],
    leases: readonly ShardLease<V>[],
    now: number,
  ): Promise<void> {
    const chunks: Chunk<V>[] = [];
    let chunk = newChunk<V>();
    for (const e of queued) {
      if (e.dirty === CLEAN || e.removed || !e.hasValue) {
        e.dirty = CLEAN;
        continue;
      }
      const full = e.dirty === FULL || Number.isNaN(e.storedAt);
      e.dirty = CLEAN;
      let payload: string;
      if (full) {
        try {
          payload = JSON.stringify(e.value) ?? 'null';
        } catch (error) {
          this.counters.unserializable++;
          this.logger.warn({ key: e.key, error }, 'ClusterThreadDict: value not serialisable');
          continue;
        }
        this.counters.changes++;
      } else {
        payload = `=${e.storedAt}`;
        this.counters.refreshes++;
      }
      chunk.records.push(`${e.keyJson}\x1f${e.sampledAt}\x1f${e.ttlMs}\x1f${payload}`);
      chunk.sent.push(e);
      chunk.times.push(e.sampledAt);
      // Assumed stored (the entry is at hand now); undone for the few refused.
      if (!(e.storedAt > e.sampledAt)) e.storedAt = e.sampledAt;
      if (chunk.sent.length === CHUNK) {
        chunks.push(chunk);
        chunk = newChunk<V>();
      }
    }
    chunks.push(chunk);
    // Confirmations go last, after the values they vouch for.
    chunk.confirmations = this.confirmations(leases, now);
    if (chunks.length === 1 && chunk.sent.length === 0 && chunk.confirmations === '') return;
    this.counters.flushes++;
    this.stats.runStarted(now, now);
    const outcomes = await Promise.all(chunks.map((c) => this.call(c)));
    this.stats.runFinished(now, this.clock.now() - now, outcomes.includes(false));
  }

  /**
   * One confirmation per polled shard, also recorded in this node's own
   * mirror: the keys not vouched for, or (right after a lease was taken,
   * when they are most) the ones vouched for.
   */
  private confirmations(leases: readonly ShardLease<V>[], now: number): string {
    const parts: string[] = [];
    for (const lease of leases) {
      if (!lease.held) continue;
      const entries = this.mirror.byShard[lease.shard]!;
      const not = this.mirror.unvouched[lease.shard]!;
      const only = not.size > entries.size - not.size;
      const listed: MirrorEntry<V>[] = [];
      for (const e of only ? entries : not) if (only !== not.has(e)) listed.push(e);
      this.mirror.confirm(
        lease.shard,
        now,
        only,
        listed.map((e) => e.key),
      );
      const keys = listed.map((e) => e.keyJson).join(',');
      parts.push(`[${lease.shard},${now},${only ? 1 : 0},[${keys}],${entries.size}]`);
      this.counters.confirmations++;
    }
    return parts.join(',');
  }

  /** One script call; on failure its entries are queued again in full. */
  private async call(chunk: Chunk<V>): Promise<boolean> {
    const { sent, times } = chunk;
    this.counters.calls++;
    try {
      const { redo, rejected } = await this.store.publish(
        chunk.records.join('\x1e'),
        sent[0]?.keyJson ?? '""',
        chunk.confirmations,
      );
      for (const i of rejected) {
        // A newer sample is stored (its message is on the way): base unknown.
        const e = sent[i]!;
        if (e.storedAt === times[i]) e.storedAt = Number.NaN;
      }
      for (const i of redo) {
        const e = sent[i]!;
        e.storedAt = Number.NaN;
        if (!e.removed) this.mirror.markDirty(e, FULL);
      }
      this.counters.redo += redo.length;
      this.counters.rejected += rejected.length;
      return true;
    } catch (error) {
      this.counters.failures++;
      this.logger.warn({ error, entries: sent.length }, 'ClusterThreadDict: publish failed');
      for (let i = 0; i < sent.length; i++) {
        const e = sent[i]!;
        if (e.storedAt === times[i]) e.storedAt = Number.NaN;
        if (!e.removed) this.mirror.markDirty(e, FULL);
      }
      return false;
    }
  }
}

/** One script call's worth of entries. */
interface Chunk<V> {
  /** One record per entry (see `PUBLISH_SCRIPT`). */
  records: string[];
  sent: MirrorEntry<V>[];
  times: number[];
  /** JSON fragment of the shard confirmations, or ''. */
  confirmations: string;
}

function newChunk<V>(): Chunk<V> {
  return { records: [], sent: [], times: [], confirmations: '' };
}
