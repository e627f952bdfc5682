import {
  AbortError,
  type Clock,
  isThenable,
  type Scheduler,
  StoppedError,
  serializeError,
  TimeoutError,
} from '@tickwork/core';
import type { ClusterJobResult } from './clusterRequest.js';

/**
 * The pool a `ClusterWorkerNode` can run handlers in: a `@tickwork/workers`
 * `WorkerProcess` (or anything with the same `send`). The node calls
 * `pool.send(key, target, args, { signal, timeoutMs, priority })`.
 */
export interface ClusterWorkerPool {
  /** Runs `target(args)` for `key` and resolves with its result (rejects with its error). */
  send(
    key: string,
    target: string,
    args: unknown,
    options: { signal?: AbortSignal; timeoutMs?: number; priority?: number },
  ): PromiseLike<unknown>;
}

/**
 * @internal an `AbortController` made only when its signal is read or it is
 * aborted: a synchronous handler that never looks at `ctx.signal` needs
 * none, and one per request was a visible share of a trivial request's CPU.
 */
export class LazyAbort {
  private controller: AbortController | undefined;

  /** The signal (the controller is made now if it was not). */
  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Whether it was aborted. */
  get aborted(): boolean {
    return this.controller?.signal.aborted === true;
  }

  /** Aborts with `reason`. */
  abort(reason: unknown): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}

/** @internal how a run ended on the node */
export type RunEnd =
  | { readonly kind: 'result'; readonly result: ClusterJobResult }
  /** The node was killed: give the job back to the queue for another node. */
  | { readonly kind: 'handback' };

/**
 * @internal runs `invoke` until it settles or `run` aborts, whichever comes
 * first: an async handler that ignores its signal is let go at the abort
 * (its result is dropped), as `WorkerProcess` does. `timeoutMs` (0: none)
 * aborts it with a `TimeoutError` from now.
 */
export async function runUntilAborted(
  invoke: () => unknown,
  run: LazyAbort,
  timeoutMs: number,
  clock: Clock,
  scheduler: Scheduler,
  what: string,
): Promise<RunEnd> {
  const startedAt = clock.now();
  let value: unknown;
  if (!run.aborted) {
    // A synchronous handler cannot be interrupted: its result needs no race
    // against the signal, nor the promises and listener that cost (a good
    // share of a trivial request's CPU on the node).
    try {
      value = invoke();
    } catch (error) {
      return failed(error, startedAt, clock.now());
    }
    if (!isThenable(value)) {
      return { kind: 'result', result: { ok: true, value, startedAt, finishedAt: clock.now() } };
    }
  }
  const timer =
    timeoutMs > 0
      ? scheduler.at(startedAt + timeoutMs, () =>
          run.abort(new TimeoutError(`${what} timed out after ${timeoutMs} ms`, timeoutMs)),
        )
      : undefined;
  const signal = run.signal;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<{ aborted: true }>((resolve) => {
    onAbort = () => resolve({ aborted: true });
    // Aborted before the run (killed or canceled while the node checked Redis): never start it.
    if (signal.aborted) resolve({ aborted: true });
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const ran = signal.aborted
    ? aborted
    : Promise.resolve(value).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
  try {
    const first = await Promise.race([ran, aborted]);
    const finishedAt = clock.now();
    // An abort wins even when the handler settled in the same turn (it may have thrown because of it).
    if (signal.aborted) {
      const reason: unknown = signal.reason;
      if (reason instanceof StoppedError) return { kind: 'handback' };
      const state = reason instanceof TimeoutError ? 'timed-out' : 'canceled';
      const error = reason instanceof Error ? reason : new AbortError(`${what} was canceled`);
      return {
        kind: 'result',
        result: { ok: false, error: serializeError(error), state, startedAt, finishedAt },
      };
    }
    if ('ok' in first && first.ok) {
      return { kind: 'result', result: { ok: true, value: first.value, startedAt, finishedAt } };
    }
    return failed('error' in first ? first.error : undefined, startedAt, finishedAt);
  } finally {
    timer?.cancel();
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function failed(error: unknown, startedAt: number, finishedAt: number): RunEnd {
  return {
    kind: 'result',
    result: { ok: false, error: serializeError(error), startedAt, finishedAt },
  };
}
