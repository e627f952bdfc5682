import {
  AbortError,
  type Clock,
  KeyNotFoundError,
  type Logger,
  type Scheduler,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import type { TerminalState } from '@tickwork/workers';
import type { Queue } from 'bullmq';
import type { ClusterJobData, ClusterJobResult } from './clusterRequest.js';
import {
  type CancelContext,
  cancelInRedis,
  cancelStored,
  stopGroupInRedis,
} from './clusterRequestCancel.js';
import {
  type ClusterOutcome,
  ClusterRequestEntry,
  type ClusterRequestInfo,
} from './clusterRequestInfo.js';
import type { ClusterLayout } from './clusterRequestLayout.js';
import { ClusterTargetStats } from './clusterRequestStats.js';
import type { ClusterRequestStore } from './clusterRequestStore.js';
import type { ClusterRequestTracker } from './clusterRequestTracker.js';

/** @internal what the book needs of its client */
export interface BookDeps {
  readonly label: string;
  readonly layout: ClusterLayout;
  readonly tracker: ClusterRequestTracker;
  readonly store: ClusterRequestStore;
  readonly cancel: CancelContext;
  readonly queues: ReadonlyMap<string, Queue<ClusterJobData, ClusterJobResult>>;
  /** Resolves once sends may go to Redis (partitions checked, events read); rejects on a mismatch. */
  readonly ready: Promise<void>;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly timeoutMs: number;
  readonly keepFinishedMs: number;
  readonly keepSettled: number;
  /** Whether new requests are accepted (the client is started). */
  readonly accepting: () => boolean;
}

/**
 * @internal the requests of one client: sending (with `after`, `dedupe`,
 * `signal`), settling each exactly once from whatever reports first, and
 * canceling here and in Redis. Settled requests are remembered up to
 * `keepSettled`.
 */
export class ClusterRequestBook {
  readonly stats: ClusterTargetStats;
  private readonly d: BookDeps;
  private readonly entries = new Map<string, ClusterRequestEntry>();
  private readonly unsettled = new Set<ClusterRequestEntry>();
  private readonly settledIds = new Set<string>();
  private idleWaiters: (() => void)[] = [];

  constructor(deps: BookDeps) {
    this.d = deps;
    this.stats = new ClusterTargetStats(deps.clock.now());
  }

  /** Requests not settled yet. */
  get unsettledCount(): number {
    return this.unsettled.size;
  }

  /** The requests not settled yet, in send order. */
  unsettledList(): ClusterRequestEntry[] {
    return [...this.unsettled];
  }

  /** The request `id` of this client, if remembered. */
  find(id: string): ClusterRequestEntry | undefined {
    return this.entries.get(id);
  }

  /** See `ClusterWorkerProcess.cancel`. */
  async cancel(id: string): Promise<boolean> {
    const entry = this.entries.get(id);
    if (entry !== undefined) {
      if (entry.settled) return false;
      const message = `${this.d.label}: request ${id} (target "${entry.target}") was canceled`;
      this.finish(entry, { state: 'canceled', error: new AbortError(message) });
      await this.cancelCluster(entry, message);
      return true;
    }
    return cancelStored(this.d.cancel, id, this.d.label, this.d.clock);
  }

  /** See `ClusterWorkerProcess.stopGroup`. */
  async stopGroup(group: string): Promise<number> {
    const done = new Set<string>();
    const work: Promise<void>[] = [];
    for (const entry of [...this.unsettled]) {
      if (entry.group !== group) continue;
      const why = `${this.d.label}: request ${entry.id} canceled: group "${group}" was stopped`;
      this.finish(entry, { state: 'canceled', error: new AbortError(why) });
      done.add(entry.id);
      work.push(this.cancelCluster(entry, why));
    }
    const others = await stopGroupInRedis(this.d.cancel, group, done, this.d.label, this.d.clock);
    await Promise.all(work);
    return done.size + others;
  }

  /** Another client stopped `group`: requests of it held here for `after` are canceled. */
  stopHeld(group: string, message: string): void {
    for (const entry of [...this.unsettled]) {
      if (entry.group === group && entry.state === 'waiting') {
        this.finish(entry, { state: 'canceled', error: new AbortError(message) });
      }
    }
  }

  /** See `ClusterWorkerProcess.waitCompleted`. */
  waitCompleted(ids: readonly string[], timeoutMs: number): Promise<ClusterRequestInfo[]> {
    const all = Promise.all(ids.map((id) => this.infoWhenSettled(id)));
    if (timeoutMs === 0) return all;
    return new Promise((resolve, reject) => {
      const timer = this.d.scheduler.at(this.d.clock.now() + timeoutMs, () => {
        const what = `${this.d.label}: waitCompleted timed out after ${timeoutMs} ms (${ids.length} requests)`;
        reject(new TimeoutError(what, timeoutMs));
      });
      all.then(
        (infos) => {
          timer.cancel();
          resolve(infos);
        },
        (error: unknown) => {
          timer.cancel();
          reject(error);
        },
      );
    });
  }

  /** See `ClusterWorkerProcess.info`. */
  async info(id: string): Promise<ClusterRequestInfo | undefined> {
    const entry = this.entries.get(id);
    if (entry !== undefined) return entry.info();
    return (await this.d.store.read(id, undefined, true))?.info;
  }

  /** Settles everything in flight with `error` (state `canceled`), as `WorkerProcess.kill` does. */
  killAll(error: StoppedError): void {
    for (const entry of [...this.unsettled]) this.finish(entry, { state: 'canceled', error });
  }

  /** Resolves once nothing is in flight. */
  whenIdle(): Promise<void> {
    if (this.unsettled.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Records a new request (refused at once when the client is not started). */
  register(
    id: string,
    key: string,
    target: string,
    args: unknown,
    group: string | undefined,
    priority: number,
    queue: string,
  ): ClusterRequestEntry {
    const entry = new ClusterRequestEntry(
      id,
      key,
      target,
      args,
      group,
      priority,
      queue,
      this.d.clock.now(),
    );
    this.settledIds.delete(id);
    this.entries.set(id, entry);
    this.unsettled.add(entry);
    if (!this.d.accepting()) {
      this.finish(entry, {
        state: 'canceled',
        error: new StoppedError(`${this.d.label}: request sent while the client is not started`),
      });
    }
    return entry;
  }

  /** The outcome of request `id` once it settles, whoever sent it. */
  async outcomeOf(id: string): Promise<ClusterOutcome> {
    const local = this.entries.get(id);
    if (local !== undefined) {
      return new Promise((resolve) => local.onSettled(() => resolve(outcomeOfEntry(local))));
    }
    const read = await this.d.store.readSoon(id);
    if (read === undefined) {
      throw new KeyNotFoundError(
        id,
        `${this.d.label}: request ${id} is unknown (never sent, or forgotten)`,
      );
    }
    return read.outcome ?? this.d.tracker.outcomeOf(id, read.info.queue);
  }

  private async infoWhenSettled(id: string): Promise<ClusterRequestInfo> {
    const local = this.entries.get(id);
    if (local !== undefined) {
      return new Promise((resolve) => local.onSettled(() => resolve(local.info())));
    }
    const outcome = await this.outcomeOf(id);
    const read = await this.d.store.read(id);
    if (read !== undefined) return read.info;
    throw outcome.error ?? new KeyNotFoundError(id, `${this.d.label}: request ${id} is gone`);
  }

  /** Cancels a request of this client in Redis once its job is there. */
  async cancelCluster(entry: ClusterRequestEntry, message: string): Promise<void> {
    await entry.added;
    if (!entry.inRedis || entry.joined) return;
    try {
      await cancelInRedis(this.d.cancel, entry.jobId, entry.queue, {
        key: entry.key,
        target: entry.target,
        group: entry.group,
        priority: entry.priority,
        queuedAt: entry.queuedAt,
        finishedAt: this.d.clock.now(),
        message,
      });
    } catch (error) {
      this.d.logger.warn(
        { err: error, request: entry.id },
        `${this.d.label}: cancel in Redis failed`,
      );
    }
  }

  /** Settles `entry` with `outcome` unless it is settled already; true when this call did. */
  finish(entry: ClusterRequestEntry, outcome: ClusterOutcome): boolean {
    if (!entry.settle(outcome, this.d.clock.now(), this.d.logger)) return false;
    this.unsettled.delete(entry);
    const rec = this.stats.of(entry.target);
    if (outcome.startedAt !== undefined && outcome.finishedAt !== undefined) {
      const readyAt = Number.isNaN(entry.readyAt) ? entry.queuedAt : entry.readyAt;
      rec.ran(outcome.state, readyAt, outcome.startedAt, outcome.finishedAt, outcome.error);
    } else {
      rec.settled(outcome.state);
    }
    this.settledIds.add(entry.id);
    while (this.settledIds.size > this.d.keepSettled) {
      const oldest = this.settledIds.values().next().value as string;
      this.settledIds.delete(oldest);
      if (this.entries.get(oldest)?.settled) this.entries.delete(oldest);
    }
    if (this.unsettled.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    return true;
  }
}

function outcomeOfEntry(e: ClusterRequestEntry): ClusterOutcome {
  return { state: e.state as TerminalState, value: e.result, error: e.error };
}
