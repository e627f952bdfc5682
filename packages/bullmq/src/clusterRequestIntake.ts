import { randomUUID } from 'node:crypto';
import { AbortError, TimeoutError } from '@tickwork/core';
import type { BookDeps, ClusterRequestBook } from './clusterRequestBook.js';
import type { ClusterOutcome, ClusterRequestEntry } from './clusterRequestInfo.js';
import { requestJob } from './clusterRequestJob.js';
import type { ParsedClusterSend } from './clusterRequestOptions.js';

/**
 * @internal how requests of one client enter the cluster: `send` (with its
 * `signal`, `after` and `dedupe`) and `command` (after every request of the
 * client unsettled at the call). Each ends in adding a job to Redis, or
 * settles without one (refused, aborted, upstream failed).
 */
export class ClusterRequestIntake {
  private readonly book: ClusterRequestBook;
  private readonly d: BookDeps;

  constructor(book: ClusterRequestBook, deps: BookDeps) {
    this.book = book;
    this.d = deps;
  }

  /** A new request from `send`. */
  send(key: string, target: string, args: unknown, o: ParsedClusterSend): ClusterRequestEntry {
    const id = o.requestId ?? randomUUID();
    const same = this.book.find(id);
    if (same !== undefined && !same.settled) {
      // The same id in flight from this client: one job, one more callback.
      const callback = o.callback;
      if (callback !== undefined) same.onSettled(() => deliverTo(callback, same));
      return same;
    }
    const queue = this.d.layout.queueOf(key);
    const entry = this.book.register(id, key, target, args, o.group, o.priority, queue);
    entry.callback = o.callback;
    if (!this.admit(entry, o.signal)) return entry;
    if (o.after !== undefined && o.after.length > 0) {
      entry.added = this.afterUpstreams(entry, o, o.after);
    } else {
      entry.state = 'queued';
      entry.added = this.enqueue(entry, o, undefined, false);
    }
    return entry;
  }

  /** A new request from `command`: it waits for every request of this client unsettled now. */
  command(
    target: string,
    args: unknown,
    o: ParsedClusterSend,
    limitMs: number,
  ): ClusterRequestEntry {
    const earlier = this.book.unsettledList();
    const id = o.requestId ?? randomUUID();
    const entry = this.book.register(
      id,
      '',
      target,
      args,
      undefined,
      Number.POSITIVE_INFINITY,
      this.d.layout.base,
    );
    entry.callback = o.callback;
    if (!this.admit(entry, o.signal)) return entry;
    if (limitMs > 0) {
      entry.timer = this.d.scheduler.at(this.d.clock.now() + limitMs, () => {
        const what = `${this.d.label}: command ${id} (target "${target}") timed out after ${limitMs} ms`;
        const error = new TimeoutError(what, limitMs);
        if (this.book.finish(entry, { state: 'timed-out', error }))
          void this.book.cancelCluster(entry, what);
      });
    }
    entry.added = (async () => {
      const all = Promise.all(earlier.map((e) => new Promise<void>((r) => e.onSettled(r))));
      await untilSettled(entry, all);
      if (entry.settled) return;
      entry.state = 'queued';
      await this.enqueue(entry, { ...o, timeoutMs: 0 }, undefined, true);
    })();
    return entry;
  }

  /** Hooks the `signal` option; false when it is settled already (refused or aborted). */
  private admit(entry: ClusterRequestEntry, signal: AbortSignal | undefined): boolean {
    if (entry.settled) return false;
    if (signal === undefined) return true;
    const what = `${this.d.label}: request ${entry.id} (target "${entry.target}") was canceled by its signal`;
    if (signal.aborted) {
      this.book.finish(entry, {
        state: 'canceled',
        error: new AbortError(what, { cause: signal.reason }),
      });
      return false;
    }
    const listener = (): void => void this.book.cancel(entry.id).catch(() => undefined);
    signal.addEventListener('abort', listener, { once: true });
    entry.detach = () => signal.removeEventListener('abort', listener);
    return true;
  }

  /** Adds the job (or joins an identical one) and watches its outcome; never rejects. */
  private async enqueue(
    entry: ClusterRequestEntry,
    o: ParsedClusterSend,
    upstream: readonly unknown[] | undefined,
    command: boolean,
  ): Promise<void> {
    try {
      await this.d.ready;
      if (entry.settled) return;
      const settle = (outcome: ClusterOutcome): void => void this.book.finish(entry, outcome);
      const onActive = (at: number): void => {
        if (entry.state === 'queued') entry.state = 'running';
        entry.startedAt = at;
        entry.attempts++;
      };
      entry.unwatch = this.d.tracker.watch(entry.id, entry.queue, settle, onActive);
      const { data, opts } = requestJob(entry, {
        timeoutMs: o.timeoutMs ?? this.d.timeoutMs,
        keepFinishedMs: this.d.keepFinishedMs,
        upstream,
        command,
        dedupe: o.dedupe,
      });
      const job = await this.d.queues.get(entry.queue)!.add(entry.target, data, opts);
      entry.inRedis = true;
      entry.readyAt = this.d.clock.now();
      const jobId = job.id ?? entry.id;
      if (jobId !== entry.id) {
        // Deduplicated: this send follows the request in flight it joined.
        entry.joined = true;
        entry.jobId = jobId;
        entry.unwatch?.();
        if (entry.settled) return;
        entry.unwatch = this.d.tracker.watch(jobId, entry.queue, settle, onActive, true);
        this.book.stats.of(entry.target).coalesced();
      } else {
        this.d.tracker.markAdded(jobId);
      }
      if (entry.settled) return;
      // A retried id (given by the caller) or a joined job may be finished already: no
      // event will come for it. A fresh random id cannot be: no read needed. Best effort:
      // the periodic check reads it again if Redis fails now.
      if (o.requestId !== undefined || entry.joined) {
        await this.d.tracker.checkOne(jobId, entry.queue).catch(() => undefined);
      }
    } catch (error) {
      this.book.finish(entry, { state: 'failed', error: asError(error) });
    }
  }

  /** Holds a request until its upstreams settle, then sends it with their results. */
  private async afterUpstreams(
    entry: ClusterRequestEntry,
    o: ParsedClusterSend,
    after: readonly string[],
  ): Promise<void> {
    try {
      await this.d.ready;
      const outcomes = await untilSettled(
        entry,
        Promise.all(after.map((id) => this.book.outcomeOf(id))),
      );
      if (outcomes === undefined || entry.settled) return;
      const bad = outcomes.findIndex((x) => x.state !== 'completed');
      if (bad >= 0) {
        const up = outcomes[bad]!;
        const what = `${this.d.label}: request ${entry.id} not run: upstream ${after[bad]} ${up.state}`;
        const error = new AbortError(what, { cause: up.error });
        this.book.finish(entry, { state: up.state === 'canceled' ? 'canceled' : 'failed', error });
        return;
      }
      entry.state = 'queued';
      await this.enqueue(
        entry,
        o,
        outcomes.map((x) => x.value),
        false,
      );
    } catch (error) {
      this.book.finish(entry, { state: 'failed', error: asError(error) });
    }
  }
}

/** `work`'s value, or undefined as soon as `entry` settles (canceled while it waited). */
function untilSettled<T>(entry: ClusterRequestEntry, work: Promise<T>): Promise<T | undefined> {
  const settled = new Promise<undefined>((resolve) => entry.onSettled(() => resolve(undefined)));
  return Promise.race([work, settled]);
}

function deliverTo(
  callback: (error: Error | null, result?: unknown) => void,
  e: ClusterRequestEntry,
): void {
  if (e.state === 'completed') callback(null, e.result);
  else callback(e.error ?? new Error('request failed'));
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
