import type { RequestId, RequestInfo } from './workerRequest.js';

/**
 * What `WorkerProcess.events$` emits.
 * - `settled`: a request reached its terminal state.
 * - `progress`: a running handler called `ctx.progress(value)`.
 * - `group-finished`: the last unsettled request of a group settled
 *   (including by `stopGroup`).
 * - `thread-replaced`: a worker thread died under a request (`crashed`) or
 *   was terminated because the request did not stop within `abortGraceMs`
 *   after a cancel or timeout (`terminated`); the pool starts another.
 */
export type WorkerProcessEvent =
  | { readonly type: 'settled'; readonly request: RequestInfo }
  | {
      readonly type: 'progress';
      readonly id: RequestId;
      readonly key: string;
      readonly target: string;
      readonly value: unknown;
    }
  | { readonly type: 'group-finished'; readonly group: string }
  | {
      readonly type: 'thread-replaced';
      readonly reason: 'crashed' | 'terminated';
      readonly id: RequestId;
      readonly target: string;
      readonly error: Error | undefined;
    };
