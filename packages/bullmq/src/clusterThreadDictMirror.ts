import { ExpiredError, KeyNotFoundError } from '@tickwork/core';
import { Observable, Subject } from 'rxjs';
import { CLEAN, FULL, type MirrorEntry, type REFRESH } from './clusterThreadDictMirrorEntry.js';
import type { ClusterEntry } from './clusterThreadDictTypes.js';

/**
 * A shard confirmation: its polling node says that, as of `at`, the value of
 * each of its keys (but those listed, or only those listed) is still the one
 * published, sampled within the key's period.
 */
interface ShardConfirmation {
  readonly at: number;
  /** Mirror sequence when received: it vouches only for values set before. */
  readonly seq: number;
  /** `true`: `keys` are the ones vouched for; `false`: the ones not. */
  readonly only: boolean;
  readonly keys: ReadonlySet<string> | null;
}

/**
 * The local copy of every value of a `ClusterThreadDict` on this node: fed by
 * this node's shard pollers and by the other nodes' batches, last writer wins
 * by sample time; it answers `get`, `entry` and `watch`, and keeps the queue
 * of what this node must publish.
 *
 * Unchanged values travel as shard confirmations, applied lazily: a value
 * whose own sample time is too old for `get` is looked up in its shard's last
 * confirmation, and counts as sampled at `confirmation time - period`.
 * @internal
 */
export class ClusterThreadDictMirror<V> {
  readonly entries = new Map<string, MirrorEntry<V>>();
  /** The entries of each shard (the polled ones are swept and confirmed). */
  readonly byShard: Set<MirrorEntry<V>>[] = [];
  /**
   * The entries of each shard this node could not vouch for if it polled it
   * (not `local`, or `failing`): what the sweep looks at and what a
   * confirmation lists, so both cost nothing per key in the steady state.
   */
  readonly unvouched: Set<MirrorEntry<V>>[] = [];
  /** Every change of every key (value differs per `equals`, or a first value). */
  readonly changes = new Subject<ClusterEntry<V>>();
  /** Values and shard confirmations received from other nodes. */
  received = 0;
  private readonly confirmations: (ShardConfirmation | undefined)[] = [];
  private seq = 0;
  private dirtyList: MirrorEntry<V>[] = [];
  private readonly fetchSet = new Set<MirrorEntry<V>>();

  constructor(
    shards: number,
    private readonly label: string,
    readonly equals: (a: V, b: V) => boolean,
    private readonly now: () => number,
  ) {
    for (let shard = 0; shard < shards; shard++) {
      this.byShard.push(new Set());
      this.unvouched.push(new Set());
    }
  }

  /** Number of keys waiting to be published. */
  get pending(): number {
    return this.dirtyList.length;
  }

  /** The entry of `key`; throws KeyNotFoundError. */
  require(key: string): MirrorEntry<V> {
    const e = this.entries.get(key);
    if (e === undefined) throw this.notFound(key);
    return e;
  }

  /**
   * A sample taken on this node's poller: stored when newer; a change (or a
   * value Redis may not hold) is queued for publishing, an equal value is
   * covered by the shard confirmations.
   */
  applyLocal(e: MirrorEntry<V>, value: V, sampledAt: number): void {
    if (e.removed) return;
    if (sampledAt <= e.sampledAt) {
      // The mirror already has a newer sample (another node's, in a handover).
      this.setLocal(e, this.equals(e.value as V, value));
      return;
    }
    const changed = !e.hasValue || !this.equals(e.value as V, value);
    this.set(e, value, sampledAt, changed);
    if (!e.local) this.setLocal(e, true);
    if (changed || Number.isNaN(e.storedAt)) this.markDirty(e, FULL);
    if (changed) this.emit(e);
  }

  /** A value another node published (or Redis holds), sampled at `sampledAt`. */
  applyRemote(e: MirrorEntry<V>, sampledAt: number, value: V): void {
    if (sampledAt <= e.sampledAt) {
      if (sampledAt === e.sampledAt) e.storedAt = sampledAt;
      return;
    }
    const changed = !e.hasValue || !this.equals(e.value as V, value);
    this.set(e, value, sampledAt, changed);
    e.storedAt = sampledAt;
    if (changed && e.local) this.setLocal(e, false);
    // What Redis holds now is newer than whatever this node had queued.
    e.dirty = CLEAN;
    if (changed) this.emit(e);
  }

  /** Another node kept an unchanged value alive: sampled at `sampledAt`, stored before at `base`. */
  applyRefresh(e: MirrorEntry<V>, base: number, sampledAt: number): void {
    if (sampledAt <= e.sampledAt) return;
    if (e.hasValue && e.sampledAt === base) {
      e.sampledAt = sampledAt;
      e.storedAt = sampledAt;
      e.freshUntil = Math.max(sampledAt, e.confirmedAt) + e.expireMs;
    } else {
      this.fetchSet.add(e); // a change this node missed: read it back
    }
  }

  /**
   * A batch from another node:
   * `[[key,time,value,...],[key,base,time,...],[shard,at,only,[keys],count],...]`.
   */
  applyBatch(data: unknown): void {
    if (!Array.isArray(data)) return;
    const [changed, refreshed, ...confirmations] = data as unknown[][];
    if (Array.isArray(changed)) {
      for (let i = 0; i + 2 < changed.length; i += 3) {
        const e = this.entries.get(changed[i] as string);
        if (e !== undefined) this.applyRemote(e, changed[i + 1] as number, changed[i + 2] as V);
      }
      this.received += Math.floor(changed.length / 3);
    }
    if (Array.isArray(refreshed)) {
      for (let i = 0; i + 2 < refreshed.length; i += 3) {
        const e = this.entries.get(refreshed[i] as string);
        if (e !== undefined) {
          this.applyRefresh(e, refreshed[i + 1] as number, refreshed[i + 2] as number);
        }
      }
    }
    for (const c of confirmations) {
      if (!Array.isArray(c)) continue;
      const [shard, at, only, keys, count] = c as [number, number, number, string[], number];
      this.received++;
      // A node with another key set for the shard cannot vouch for this one's.
      if (this.byShard[shard]?.size === count) this.confirm(shard, at, only === 1, keys);
    }
  }

  /** Records a shard confirmation (received, or made by this node for its own shards). */
  confirm(shard: number, at: number, only: boolean, keys: readonly string[]): void {
    if (shard < 0 || shard >= this.byShard.length) return;
    const previous = this.confirmations[shard];
    if (previous !== undefined && previous.at > at) return;
    this.confirmations[shard] = {
      at,
      seq: this.seq,
      only,
      keys: keys.length === 0 ? null : new Set(keys),
    };
  }

  /**
   * Brings `e`'s freshness up to its shard's last confirmation, if that
   * vouches for it. Returns `e.freshUntil`.
   */
  confirmed(e: MirrorEntry<V>): number {
    const c = this.confirmations[e.shard];
    if (c === undefined || !e.hasValue || e.setSeq > c.seq) return e.freshUntil;
    const listed = c.keys?.has(e.key) ?? false;
    if (listed !== c.only) return e.freshUntil;
    const at = c.at - e.periodMs;
    if (at > e.confirmedAt) {
      e.confirmedAt = at;
      if (at > e.sampledAt) e.freshUntil = at + e.expireMs;
    }
    return e.freshUntil;
  }

  /** A stored `<time>|<json>` read from Redis (null: nothing stored). */
  applyStored(e: MirrorEntry<V>, stored: string | null): void {
    if (stored === null) return;
    const bar = stored.indexOf('|');
    if (bar < 0) return;
    this.applyRemote(e, Number(stored.slice(0, bar)), JSON.parse(stored.slice(bar + 1)) as V);
  }

  /** Queues `e` for the next flush (a full write wins over a refresh). */
  markDirty(e: MirrorEntry<V>, kind: typeof FULL | typeof REFRESH): void {
    if (e.dirty === CLEAN) {
      e.dirty = kind;
      this.dirtyList.push(e);
    } else if (kind === FULL) {
      e.dirty = FULL;
    }
  }

  /** Takes the publish queue. */
  takeDirty(): MirrorEntry<V>[] {
    const list = this.dirtyList;
    this.dirtyList = [];
    return list;
  }

  /** Queues `e` to be read back from Redis on the next flush. */
  queueFetch(e: MirrorEntry<V>): void {
    this.fetchSet.add(e);
  }

  /** Takes the keys to read back from Redis. */
  takeFetch(): MirrorEntry<V>[] {
    const list = [...this.fetchSet];
    this.fetchSet.clear();
    return list;
  }

  /** Forgets what Redis holds (it came back, maybe empty). */
  forgetStored(): void {
    for (const e of this.entries.values()) e.storedAt = Number.NaN;
  }

  /** Whether `e`'s value is this node's latest local sample. */
  setLocal(e: MirrorEntry<V>, local: boolean): void {
    e.local = local;
    this.track(e);
  }

  /** Whether `e`'s last local read failed. */
  setFailing(e: MirrorEntry<V>, failing: boolean): void {
    if (e.failing === failing) return;
    e.failing = failing;
    this.track(e);
  }

  /** A new tenure of `shard`: nothing is local until its poller reads it. */
  resetShard(shard: number): void {
    const unvouched = this.unvouched[shard]!;
    for (const e of this.byShard[shard]!) {
      e.local = false;
      e.failing = false;
      e.checkAt = 0;
      unvouched.add(e);
    }
  }

  /** Adds a new key. */
  add(e: MirrorEntry<V>): void {
    this.entries.set(e.key, e);
    this.byShard[e.shard]!.add(e);
    this.unvouched[e.shard]!.add(e);
  }

  /** Drops `key`; its watchers complete. */
  delete(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    this.entries.delete(key);
    this.byShard[e.shard]!.delete(e);
    this.unvouched[e.shard]!.delete(e);
    this.fetchSet.delete(e);
    e.removed = true;
    e.subject?.complete();
    return true;
  }

  /** Snapshot of `e` at `now`. */
  entryOf(e: MirrorEntry<V>, now = this.now()): ClusterEntry<V> {
    const freshUntil = this.confirmed(e);
    const sampledAt = Math.max(e.sampledAt, e.confirmedAt);
    return {
      key: e.key,
      shard: e.shard,
      value: e.value,
      hasValue: e.hasValue,
      sampledAt: e.hasValue ? sampledAt : null,
      expiresAt: e.hasValue ? sampledAt + e.expireMs : null,
      stale: !e.hasValue || now > freshUntil,
    };
  }

  /** The error `get` throws for an entry without a fresh value. */
  expired(e: MirrorEntry<V>, now: number): ExpiredError<V | undefined> {
    if (!e.hasValue) {
      return new ExpiredError<V | undefined>(
        e.key,
        undefined,
        Number.POSITIVE_INFINITY,
        `${this.label}: ${e.key} has no value yet`,
      );
    }
    const age = now - Math.max(e.sampledAt, e.confirmedAt);
    return new ExpiredError<V | undefined>(
      e.key,
      e.value,
      age,
      `${this.label}: value of ${e.key} expired: sampled ${Math.round(age)} ms ago (expireMs ${e.expireMs})`,
    );
  }

  /** KeyNotFoundError for `key`. */
  notFound(key: string): KeyNotFoundError {
    return new KeyNotFoundError(key, `${this.label}: key not found: ${key}`);
  }

  /** Entries of `key`: the current one, then each change; see `ClusterThreadDict.watch`. */
  watch(key: string, alive: () => boolean): Observable<ClusterEntry<V>> {
    return new Observable<ClusterEntry<V>>((subscriber) => {
      const e = this.entries.get(key);
      if (e === undefined) {
        subscriber.error(this.notFound(key));
        return undefined;
      }
      subscriber.next(this.entryOf(e));
      if (!alive() || e.removed) {
        subscriber.complete();
        return undefined;
      }
      if (subscriber.closed) return undefined;
      e.subject ??= new Subject<ClusterEntry<V>>();
      return e.subject.subscribe(subscriber);
    });
  }

  /** Completes every stream (kill). */
  complete(): void {
    for (const e of this.entries.values()) e.subject?.complete();
    this.changes.complete();
  }

  private track(e: MirrorEntry<V>): void {
    if (e.removed) return;
    if (e.local && !e.failing) this.unvouched[e.shard]!.delete(e);
    else this.unvouched[e.shard]!.add(e);
  }

  private set(e: MirrorEntry<V>, value: V, sampledAt: number, changed: boolean): void {
    // A confirmation vouched for the value it replaced, not for this one.
    if (changed) e.confirmedAt = Number.NEGATIVE_INFINITY;
    e.value = value;
    e.hasValue = true;
    e.sampledAt = sampledAt;
    e.setSeq = ++this.seq;
    e.freshUntil = Math.max(sampledAt, e.confirmedAt) + e.expireMs;
  }

  private emit(e: MirrorEntry<V>): void {
    // No entry is built unless someone watches.
    if (e.subject === undefined && !this.changes.observed) return;
    const entry = this.entryOf(e);
    e.subject?.next(entry);
    this.changes.next(entry);
  }
}
