import type { RequestId, RequestInfo, RequestState, WorkerRequest } from './workerRequest.js';

/** What a handle needs of its pool. @internal */
export interface RequestOwner {
  cancel(id: RequestId): boolean;
}

/**
 * What `send` and `command` return at once: the request's id and state, and
 * a promise-like of its result (`await pool.send(...)` works, and so do
 * `.then`, `.catch`, `.finally` and `Promise.all`). The underlying promise
 * is only made when asked for, so callers that use a callback never get an
 * unhandled rejection.
 *
 * @example
 * ```ts
 * const handle = pool.send('sys/tg/1', 'read', { attr: 'temperature' });
 * handle.id;            // '17'
 * const value = await handle;
 * ```
 */
export class RequestHandle<R = unknown> implements PromiseLike<R> {
  private readonly request: WorkerRequest;
  private readonly owner: RequestOwner;

  /** @internal */
  constructor(request: WorkerRequest, owner: RequestOwner) {
    this.request = request;
    this.owner = owner;
  }

  /** The request's id (for `cancel`, `after`, `waitCompleted`). */
  get id(): RequestId {
    return this.request.id;
  }

  /** The key it was sent with. */
  get key(): string {
    return this.request.key;
  }

  /** The handler it runs. */
  get target(): string {
    return this.request.target;
  }

  /** Its state now. */
  get state(): RequestState {
    return this.request.state;
  }

  /** A plain-data view with times, result or error. */
  info(): RequestInfo<R> {
    return this.request.info() as RequestInfo<R>;
  }

  /** Cancels it; see `WorkerProcess.cancel`. */
  cancel(): boolean {
    return this.owner.cancel(this.request.id);
  }

  /** The result as a real `Promise`. */
  get promise(): Promise<R> {
    // The result is whatever the handler of this target returned: R by the send's typing.
    return this.request.promise() as Promise<R>;
  }

  /** Same as `promise.then`: what makes the handle awaitable. */
  // biome-ignore lint/suspicious/noThenProperty: the handle is deliberately a thenable, so `await pool.send(...)` works.
  then<A = R, B = never>(
    onFulfilled?: ((value: R) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return (this.request.promise() as Promise<R>).then(onFulfilled, onRejected);
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
