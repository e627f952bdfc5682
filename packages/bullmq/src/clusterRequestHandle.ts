import type { RequestState } from '@tickwork/workers';
import type { ClusterRequestEntry, ClusterRequestInfo } from './clusterRequestInfo.js';

/** @internal what a handle needs of its client */
export interface ClusterRequestOwner {
  cancel(id: string): Promise<boolean>;
}

/**
 * What `ClusterWorkerProcess.send` and `command` return at once: the
 * request's id and local state, and a promise-like of its result (`await`,
 * `.then`, `.catch`, `.finally` and `Promise.all` work). The promise is made
 * only when asked for, so callers using a callback never get an unhandled
 * rejection; like `@tickwork/workers`' `RequestHandle`.
 *
 * @example
 * ```ts
 * const handle = client.send('wave/1', 'peak', samples);
 * handle.id;            // the request id = the BullMQ job id
 * const peak = await handle;
 * ```
 */
export class ClusterRequestHandle<R = unknown> implements PromiseLike<R> {
  private readonly entry: ClusterRequestEntry;
  private readonly owner: ClusterRequestOwner;

  /** @internal */
  constructor(entry: ClusterRequestEntry, owner: ClusterRequestOwner) {
    this.entry = entry;
    this.owner = owner;
  }

  /** The request's id (for `cancel`, `after`, `waitCompleted`, `info`, from any client). */
  get id(): string {
    return this.entry.id;
  }

  /** The key it was sent with. */
  get key(): string {
    return this.entry.key;
  }

  /** The handler it runs. */
  get target(): string {
    return this.entry.target;
  }

  /** Its state as this client knows it now. */
  get state(): RequestState {
    return this.entry.state;
  }

  /**
   * Resolves once the request's job is in Redis (true: from then on any
   * client can use its id), or once it is known never to be (false: it
   * settled first, e.g. canceled while held for `after`). Pass an id to
   * another process after this, or that process may not find it yet.
   */
  get sent(): Promise<boolean> {
    const entry = this.entry;
    return entry.added.then(() => entry.inRedis);
  }

  /** Plain-data view as this client knows it (`ClusterWorkerProcess.info` reads Redis). */
  info(): ClusterRequestInfo<R> {
    return this.entry.info() as ClusterRequestInfo<R>;
  }

  /** Cancels it; see `ClusterWorkerProcess.cancel`. */
  cancel(): Promise<boolean> {
    return this.owner.cancel(this.entry.id);
  }

  /** The result as a real `Promise`. */
  get promise(): Promise<R> {
    // The result is whatever the target's handler returned: R by the send's typing.
    return this.entry.promise() as Promise<R>;
  }

  /** Same as `promise.then`: what makes the handle awaitable. */
  // biome-ignore lint/suspicious/noThenProperty: the handle is deliberately a thenable, so `await client.send(...)` works.
  then<A = R, B = never>(
    onFulfilled?: ((value: R) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return this.promise.then(onFulfilled, onRejected);
  }

  /** Same as `promise.catch`. */
  catch<B = never>(onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<R | B> {
    return this.promise.catch(onRejected);
  }

  /** Same as `promise.finally`. */
  finally(onFinally?: (() => void) | null): Promise<R> {
    return this.promise.finally(onFinally);
  }
}
