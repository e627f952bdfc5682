import type { Logger, ScheduledTimer, Scheduler } from '@tickwork/core';
import type { ThreadDict } from '@tickwork/polling';
import type { ShardLeaseInfo } from './clusterThreadDictTypes.js';

/** Why a lease job's wait ended. @internal */
export type LeaseEnd = 'continued' | 'lapsed' | 'lost' | 'released';

interface Waiter {
  readonly slot: number;
  readonly resolve: (end: LeaseEnd) => void;
}

/** One shard as this node sees it. @internal */
export class ShardLease<V> {
  dict: ThreadDict<V> | undefined = undefined;
  held = false;
  /** Latest slot this node holds (or held), epoch ms. */
  slot = Number.NEGATIVE_INFINITY;
  /** End of that slot's window (the next slot), epoch ms. */
  end = Number.NaN;
  /** When the current tenure began, epoch ms. */
  since = Number.NaN;
  timer: ScheduledTimer | undefined = undefined;
  waiters: Waiter[] = [];
  owner: string | null = null;
  ownerSlot = Number.NaN;
  acquired = 0;
  continued = 0;
  lost = 0;
  lapsed = 0;
  /** Reads of earlier tenures since the last start (a poller's own count restarts with it). */
  polls = 0;

  constructor(readonly shard: number) {}
}

/** What `ShardLeases` needs from its owner. @internal */
export interface ShardLeasesHost<V> {
  readonly nodeId: string;
  readonly graceMs: number;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** Makes the local poller of a shard (its keys appended, its changes wired). */
  createDict(shard: number): ThreadDict<V>;
  /** Number of keys of a shard on this node. */
  keysOf(shard: number): number;
  /** A tenure began (`slot` scheduled, taken at `now`). */
  onAcquired(shard: number, slot: number, now: number): void;
  /** A tenure ended after `heldMs`. */
  onReleased(shard: number, end: LeaseEnd, since: number, heldMs: number): void;
}

/**
 * The lease windows of this node, one `ShardLease` per shard. A lease job's
 * processor calls `acquire(shard, slot, end)` and awaits what it returns: the
 * shard's local `ThreadDict` polls from then until `end + graceMs`, unless
 * this node takes the next window first (the older job completes at once:
 * `'continued'`), another node claims a window at least as new (`'lost'`),
 * or the node stops (`'released'`). A stopped poller is kept, so taking the
 * shard again only restarts it.
 * @internal
 */
export class ShardLeases<V> {
  readonly shards: ShardLease<V>[] = [];

  constructor(
    count: number,
    private readonly host: ShardLeasesHost<V>,
  ) {
    for (let shard = 0; shard < count; shard++) this.shards.push(new ShardLease<V>(shard));
  }

  /** Shards this node holds now. */
  heldShards(): number[] {
    return this.shards.filter((s) => s.held).map((s) => s.shard);
  }

  /**
   * Starts (or continues) polling `shard` for the window of `slot`, ending
   * at `end`. Resolves when this job's part is over; `'stale'` at once when
   * this node already holds a window at least as new.
   */
  acquire(shard: number, slot: number, end: number, now: number): Promise<LeaseEnd> | 'stale' {
    const lease = this.shards[shard]!;
    if (lease.held && slot <= lease.slot) return 'stale';
    const waiters = lease.waiters;
    lease.waiters = [];
    if (lease.held) {
      lease.continued++;
      for (const waiter of waiters) waiter.resolve('continued');
    } else {
      lease.held = true;
      lease.since = now;
      lease.acquired++;
      if (lease.dict === undefined) lease.dict = this.host.createDict(shard);
      else lease.polls += lease.dict.stats().count;
      this.host.onAcquired(shard, slot, now);
      lease.dict.start();
    }
    lease.slot = slot;
    lease.end = end;
    lease.owner = this.host.nodeId;
    lease.ownerSlot = slot;
    lease.timer?.cancel();
    lease.timer = this.host.scheduler.at(end + this.host.graceMs, () =>
      this.release(lease, 'lapsed'),
    );
    return new Promise<LeaseEnd>((resolve) => lease.waiters.push({ slot, resolve }));
  }

  /** A claim heard on the lease channel (this node's own included). */
  claimed(shard: number, slot: number, node: string): void {
    const lease = this.shards[shard];
    if (lease === undefined) return;
    if (!(slot < lease.ownerSlot)) {
      lease.owner = node;
      lease.ownerSlot = slot;
    }
    if (node !== this.host.nodeId && lease.held && lease.slot <= slot) this.release(lease, 'lost');
  }

  /** BullMQ could not renew the lock of `shard`'s job for `slot`: another node may take it. */
  lockLost(shard: number, slot: number): void {
    const lease = this.shards[shard];
    if (lease?.held && lease.slot === slot) this.release(lease, 'lost');
  }

  /** Ends every lease of this node now (stop, kill). */
  releaseAll(): void {
    for (const lease of this.shards) if (lease.held) this.release(lease, 'released');
  }

  /** Kills every local poller (after `releaseAll`). */
  async killDicts(): Promise<void> {
    await Promise.all(this.shards.map((lease) => lease.dict?.kill()));
  }

  /** Where each shard stands. */
  info(): ShardLeaseInfo[] {
    return this.shards.map((s) => ({
      shard: s.shard,
      keys: this.host.keysOf(s.shard),
      held: s.held,
      slot: s.held ? s.slot : null,
      until: s.held ? s.end : null,
      owner: s.owner,
      ownerSlot: Number.isNaN(s.ownerSlot) ? null : s.ownerSlot,
      acquired: s.acquired,
      continued: s.continued,
      lost: s.lost,
      lapsed: s.lapsed,
    }));
  }

  /** Zeroes the handover counters (start). */
  resetCounters(): void {
    for (const s of this.shards) {
      s.acquired = 0;
      s.continued = 0;
      s.lost = 0;
      s.lapsed = 0;
      // A kept poller's count is added on its next start: net zero from now.
      s.polls = s.dict === undefined ? 0 : -s.dict.stats().count;
    }
  }

  private release(lease: ShardLease<V>, end: LeaseEnd): void {
    if (!lease.held) return;
    lease.held = false;
    lease.timer?.cancel();
    lease.timer = undefined;
    if (end === 'lost') lease.lost++;
    else if (end === 'lapsed') lease.lapsed++;
    // The running reads finish; their results are not published (not held).
    lease.dict?.stop({ timeoutMs: 0 }).catch((error: unknown) => {
      this.host.logger.warn({ shard: lease.shard, error }, 'ClusterThreadDict: stop failed');
    });
    const now = this.host.scheduler.clock.now();
    this.host.onReleased(lease.shard, end, lease.since, now - lease.since);
    const waiters = lease.waiters;
    lease.waiters = [];
    for (const waiter of waiters) waiter.resolve(end);
  }
}
