import {
  type ComponentDiagnostics,
  checkDuration,
  checkOptions,
  checkString,
  Lifecycle,
  type ScheduledTimer,
  Stats,
  StoppedError,
} from '@tickwork/core';
import { type Entry, ThreadDict, type ThreadDictOptions } from '@tickwork/polling';
import type { Observable } from 'rxjs';
import { clusterDiagnostics } from './clusterThreadDictDiagnostics.js';
import { ClusterThreadDictMirror } from './clusterThreadDictMirror.js';
import { FULL, MirrorEntry } from './clusterThreadDictMirrorEntry.js';
import {
  type ClusterThreadDictOptions,
  checkDictOptions,
  checkLimit,
  dictAppendOptions,
  localDictOptions,
  type ResolvedClusterOptions,
  resolveClusterOptions,
} from './clusterThreadDictOptions.js';
import type {
  ClusterAppendOptions,
  ClusterEntry,
  ClusterGetOptions,
  ShardLeaseInfo,
} from './clusterThreadDictTypes.js';
import { ShardLayoutCheck } from './shardLayoutCheck.js';
import { ShardLeases } from './shardLeases.js';
import { ShardLeaseWorker } from './shardLeaseWorker.js';
import { hashKey } from './shardOf.js';
import { ValueStore } from './valueStore.js';
import { ValueStorePublisher } from './valueStorePublisher.js';

const C = 'ClusterThreadDict';

/**
 * A `ThreadDict` spread over the nodes of a cluster. Polls never become jobs:
 * keys hash into shards (`shardOf`), each shard's lease is a BullMQ job
 * scheduler (`every: leaseMs`) whose job's processor runs a local `ThreadDict`
 * over the shard's keys for the window until the next slot; values go to
 * Redis (`SET PX`, last writer wins by sample time, one script call per flush
 * of many keys) and to every node's mirror through pub/sub, so `get(key)` and
 * `watch(key)` work on every node. A node that dies loses its shards at their
 * next slot (within `leaseMs`), or to BullMQ's stall detection.
 *
 * Every node appends the same keys with the same options: a node polls the
 * keys **it** knows of the shards it holds.
 *
 * @example
 * ```ts
 * const dict = new ClusterThreadDict<number>({
 *   connection: { host: '10.0.0.5', port: 6379 },
 *   name: 'devices',
 *   read: (key) => device.read(key),
 *   periodMs: 1000,
 * });
 * for (const key of attributes) dict.append(key);
 * await dict.synced();
 * dict.get('sys/tg/1/temperature'); // on every node, whichever polls it
 * ```
 */
export class ClusterThreadDict<V> extends Lifecycle {
  /** This node's id in lease records and messages. */
  readonly nodeId: string;
  /** Every change of every key on this node's mirror (values differing per `equals`). Completes on `kill()`. */
  readonly changes$: Observable<ClusterEntry<V>>;
  private readonly o: ResolvedClusterOptions<V>;
  private readonly dictOptions: ThreadDictOptions<V>;
  private readonly mirror: ClusterThreadDictMirror<V>;
  private readonly leases: ShardLeases<V>;
  private readonly store: ValueStore;
  private readonly publisher: ValueStorePublisher<V>;
  private readonly leaseWorker: ShardLeaseWorker<V> | undefined;
  private readonly leaseStats = new Stats();
  private flushTimer: ScheduledTimer | undefined;
  private readonly layoutCheck: ShardLayoutCheck;
  private readonly layoutTimer: ScheduledTimer;
  private readonly firstSync: Promise<void>;
  private markSubscribed: () => void = () => {};
  private subscribed = false;

  /**
   * @param options - see {@link ClusterThreadDictOptions}
   * @throws ConfigError for a bad option
   */
  constructor(options: ClusterThreadDictOptions<V>) {
    const o = resolveClusterOptions(options);
    const { connection, name, prefix, nodeId, shards, periodMs, poll } = o;
    // Checked before joining the registry: a bad option leaves nothing behind.
    if (poll) checkDictOptions(localDictOptions(options, { periodMs, registry: false }));
    super(C, options);
    this.dictOptions = localDictOptions(options, {
      periodMs,
      clock: this.clock,
      scheduler: this.scheduler,
      logger: this.logger,
      registry: false,
    });
    this.o = o;
    this.nodeId = nodeId;
    this.mirror = new ClusterThreadDictMirror<V>(shards, `${C} ${name}`, o.equals, () =>
      this.clock.now(),
    );
    this.changes$ = this.mirror.changes.asObservable();
    this.leases = new ShardLeases<V>(shards, {
      nodeId,
      graceMs: o.graceMs,
      scheduler: this.scheduler,
      logger: this.logger,
      createDict: (shard) => this.createDict(shard),
      keysOf: (shard) => this.mirror.byShard[shard]!.size,
      onAcquired: (shard, slot, now) => {
        this.leaseStats.runStarted(slot, now);
        // Nothing is confirmed until this tenure's poller has read it.
        this.mirror.resetShard(shard);
      },
      onReleased: (_shard, _end, since, heldMs) => this.leaseStats.runFinished(since, heldMs),
    });
    this.firstSync = new Promise<void>((resolve) => {
      this.markSubscribed = resolve;
    });
    this.store = new ValueStore(
      connection,
      `${prefix}:${o.queueName}`,
      nodeId,
      {
        onValues: (data) => this.mirror.applyBatch(data),
        onLease: (shard, slot, node) => this.leases.claimed(shard, slot, node),
        onCommandReady: (first) => {
          if (!first) this.afterReconnect();
        },
        onSubscribed: () => void this.resyncAll(),
      },
      this.logger,
    );
    this.publisher = new ValueStorePublisher<V>(this.mirror, this.store, this.clock, this.logger);
    this.layoutCheck = new ShardLayoutCheck(this.store, shards, o.leaseMs, this.name, this.logger);
    // Mirrors check too: they read the pollers' per-shard confirmations.
    this.layoutTimer = this.scheduler.every(o.leaseMs, () => void this.layoutCheck.check());
    if (poll) {
      this.leaseWorker = new ShardLeaseWorker<V>(o, this.leases, this.store, {
        name,
        logger: this.logger,
        scheduler: this.scheduler,
        isStarted: () => this.isStarted(),
      });
    }
    if (o.start) this.start();
  }

  /** Number of keys appended on this node. */
  get size(): number {
    return this.mirror.entries.size;
  }

  /** The keys appended on this node. */
  keys(): string[] {
    return [...this.mirror.entries.keys()];
  }

  /** Whether `key` was appended on this node (and not removed). */
  has(key: string): boolean {
    return this.mirror.entries.has(key);
  }

  /**
   * Adds `key` (every node must append it, with the same options): polled by
   * whichever node holds its shard, mirrored here. Appending again changes
   * its period, expiry or timeout.
   * @throws ConfigError for a bad key or option; StoppedError after `kill()`
   */
  append(key: string, options: ClusterAppendOptions = {}): this {
    if (!this.isAlive()) throw new StoppedError(`${C} ${this.name}: append() after kill()`);
    checkString(C, 'key', key);
    const given = checkOptions(C, 'append options', options);
    const merged: ClusterAppendOptions = { ...this.mirror.entries.get(key)?.options };
    if (given.periodMs !== undefined) {
      merged.periodMs = checkDuration(C, 'append options.periodMs', given.periodMs, { min: 1 });
    }
    if (given.expireMs !== undefined) {
      merged.expireMs = checkLimit(C, 'append options.expireMs', given.expireMs);
    }
    if (given.timeoutMs !== undefined) {
      merged.timeoutMs = checkLimit(C, 'append options.timeoutMs', given.timeoutMs);
    }
    const periodMs = merged.periodMs ?? this.o.periodMs;
    const expireMs =
      merged.expireMs ?? (Number.isNaN(this.o.expireMs) ? 4 * periodMs : this.o.expireMs);
    let e = this.mirror.entries.get(key);
    if (e === undefined) {
      e = new MirrorEntry<V>(key, hashKey(key) % this.o.shards, merged, periodMs, expireMs);
      this.mirror.add(e);
      // Another node may have published it already (the first resync reads
      // every key appended before it).
      if (this.subscribed) this.mirror.queueFetch(e);
    } else {
      e.options = merged;
      e.periodMs = periodMs;
      e.expireMs = expireMs;
      if (e.hasValue) e.freshUntil = Math.max(e.sampledAt, e.confirmedAt) + expireMs;
    }
    const dict = this.leases.shards[e.shard]!.dict;
    if (dict?.isAlive()) dict.append(key, dictAppendOptions(e));
    return this;
  }

  /** Drops `key` on this node (each node removes its own); its watchers complete. */
  remove(key: string): boolean {
    checkString(C, 'key', key);
    const e = this.mirror.entries.get(key);
    if (e === undefined) return false;
    this.mirror.delete(key);
    this.leases.shards[e.shard]!.dict?.remove(key);
    return true;
  }

  /**
   * The value of `key` on this node's mirror, synchronously: the latest sample
   * published by (or polled on) any node. Throws `KeyNotFoundError` for a key
   * not appended here, and `ExpiredError` (with the stale value and its age)
   * when there is no value yet or it is older than `expireMs`, unless `allowStale`.
   */
  get(key: string, options?: ClusterGetOptions): V {
    const e = this.mirror.entries.get(key);
    if (e !== undefined && this.clock.now() <= e.freshUntil) return e.value as V;
    if (e === undefined) {
      checkString(C, 'key', key);
      throw this.mirror.notFound(key);
    }
    // An unchanged value: is it vouched for by its shard's last confirmation?
    const now = this.clock.now();
    if (now <= this.mirror.confirmed(e)) return e.value as V;
    if (e.hasValue && options?.allowStale === true) return e.value as V;
    throw this.mirror.expired(e, now);
  }

  /** Snapshot of `key`: value, shard, sample time, expiry, staleness. @throws KeyNotFoundError */
  entry(key: string): ClusterEntry<V> {
    return this.mirror.entryOf(this.mirror.require(key));
  }

  /**
   * Entries of `key`: the current one on subscription, then each change of
   * its value (per `equals`), whichever node sampled it. Errors with
   * `KeyNotFoundError` for an unknown key; completes on `remove` and `kill`.
   */
  watch(key: string): Observable<ClusterEntry<V>> {
    checkString(C, 'key', key);
    return this.mirror.watch(key, () => this.isAlive());
  }

  /** Where each shard's lease stands, as this node sees it. */
  shards(): ShardLeaseInfo[] {
    return this.leases.info();
  }

  /**
   * Resolves once this node has subscribed and read the stored values of its
   * keys, and (when polling) has checked the shard schedulers in Redis.
   */
  async synced(): Promise<void> {
    await this.firstSync;
    await this.leaseWorker?.reconcile();
  }

  /** Diagnostics: lease tenures (lateness = pickup after the slot), one item per shard, publish counters. */
  diagnostics(): ComponentDiagnostics {
    const diagnostics = clusterDiagnostics(this.leases, this.publisher, this.mirror);
    return {
      kind: this.kind,
      name: this.name,
      state: this.state,
      stats: this.leaseStats.snapshot(),
      items: diagnostics.items,
      detail: {
        nodeId: this.nodeId,
        queue: this.o.queueName,
        shards: this.o.shards,
        leaseMs: this.o.leaseMs,
        connected: this.store.connected,
        schedulerUpserts: this.leaseWorker?.upserts ?? 0,
        layoutConflict: this.layoutCheck.conflict,
        ...diagnostics.detail,
      },
    };
  }

  protected onStart(): void {
    const now = this.clock.now();
    this.leaseStats.reset(now);
    this.publisher.stats.reset(now);
    this.leases.resetCounters();
    this.flushTimer ??= this.scheduler.every(this.o.flushMs, () => {
      void this.publisher.flush(this.leases.shards);
    });
    this.leaseWorker?.start();
  }

  protected onStop(): void {
    this.leaseWorker?.stop();
    // Each lease job is handed back to the queue for another node to take.
    this.leases.releaseAll();
  }

  protected async onKill(): Promise<void> {
    this.flushTimer?.cancel();
    this.layoutTimer.cancel();
    this.leases.releaseAll();
    await this.leaseWorker?.close();
    await this.leases.killDicts();
    await this.store.close();
    this.markSubscribed();
    this.mirror.complete();
  }

  protected whenIdle(): Promise<void> {
    return this.leaseWorker?.whenIdle() ?? Promise.resolve();
  }

  private createDict(shard: number): ThreadDict<V> {
    const dict = new ThreadDict<V>({ ...this.dictOptions, name: `${this.name}/shard-${shard}` });
    for (const e of this.mirror.byShard[shard]!) dict.append(e.key, dictAppendOptions(e));
    dict.changes$.subscribe((entry) => this.onLocalChange(shard, entry));
    return dict;
  }

  private onLocalChange(shard: number, entry: Entry<V>): void {
    if (!this.leases.shards[shard]!.held) return;
    const e = this.mirror.entries.get(entry.key);
    if (e === undefined) return;
    const failing = entry.status === 'error';
    if (failing !== e.failing) this.mirror.setFailing(e, failing);
    if (entry.hasValue && entry.sampledAt !== null) {
      this.mirror.applyLocal(e, entry.value as V, entry.sampledAt);
    }
  }

  /** Redis came back (maybe empty): it lost the schedulers and values. */
  private afterReconnect(): void {
    this.mirror.forgetStored();
    for (const lease of this.leases.shards) {
      if (!lease.held) continue;
      for (const e of this.mirror.byShard[lease.shard]!) {
        if (e.local) this.mirror.markDirty(e, FULL);
      }
    }
    void this.leaseWorker?.reconcile();
  }

  private async resyncAll(): Promise<void> {
    this.subscribed = true;
    try {
      await this.layoutCheck.check();
      await this.publisher.resync([...this.mirror.entries.values()]);
      // A node that missed claims while away checks who holds its shards now.
      const owners = await this.store.owners(this.o.shards);
      owners.forEach((record, shard) => {
        if (record === null) return;
        const bar = record.indexOf('|');
        this.leases.claimed(shard, Number(record.slice(0, bar)), record.slice(bar + 1));
      });
    } catch (error) {
      this.logger.warn({ component: this.name, error }, 'resync failed');
    } finally {
      this.markSubscribed();
    }
  }
}
