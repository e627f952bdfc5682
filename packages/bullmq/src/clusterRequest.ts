import type { SerializedError } from '@tickwork/core';

/** What a cluster handler is given besides its args. */
export interface ClusterHandlerContext {
  /**
   * The request id, which is the BullMQ job id: the same on every delivery,
   * so a handler dedupes its side effects on it (at-least-once delivery).
   * For a periodic key it is the slot job's id (`repeat:<key>:<slot ms>`).
   */
  readonly id: string;
  /** The request's key (`''` for a `command`). */
  readonly key: string;
  /** The handler name. */
  readonly target: string;
  /** 1 on the first delivery; more when a stalled run was delivered again (at-least-once). */
  readonly attempt: number;
  /** Results of the requests named in the `after` option, in that order; empty without. */
  readonly upstream: readonly unknown[];
  /**
   * Aborted when the request is canceled (`AbortError`), runs past its
   * `timeoutMs` (`TimeoutError`) or the node is killed (`StoppedError`).
   */
  readonly signal: AbortSignal;
}

/**
 * A handler run on a node: a plain function of JSON-serialisable args
 * returning (or resolving to) a JSON-serialisable result.
 */
export type ClusterHandler = (args: never, context: ClusterHandlerContext) => unknown;

/** Handlers by name, as a `ClusterWorkerNode` runs them and a `ClusterWorkerProcess` types them. */
export type ClusterHandlers = { readonly [target: string]: ClusterHandler };

/**
 * What a `ClusterWorkerProcess` is typed from: a {@link ClusterHandlers}
 * map, or the handler map of a `@tickwork/workers` executor whose targets
 * the nodes run in their pool (`typeof handlers` of `defineExecutor`).
 */
export type ClusterHandlerTypes = {
  /** A handler's signature: its args and (awaited) result type the requests. */
  readonly [target: string]: (args: never, context: never) => unknown;
};

/** A handler's target names. */
export type ClusterTargetOf<H extends ClusterHandlerTypes> = keyof H & string;

/**
 * The args of a handler.
 * @typeParam F - the handler
 */
export type ClusterArgsOf<F extends (args: never, context: never) => unknown> = Parameters<F>[0];

/**
 * The result of a handler, awaited.
 * @typeParam F - the handler
 */
export type ClusterResultOf<F extends (args: never, context: never) => unknown> = Awaited<
  ReturnType<F>
>;

/** @internal the data of a request job */
export interface ClusterJobData {
  readonly key: string;
  readonly args: unknown;
  /** Group of the request, for `stopGroup`. */
  readonly group?: string;
  /** Run-time limit from the start on the node, ms. */
  readonly timeoutMs?: number;
  /** Results of the `after` upstreams. */
  readonly upstream?: readonly unknown[];
  /** Set on periodic-key jobs: how long the node keeps the latest value in Redis, ms. */
  readonly expireMs?: number;
}

/**
 * @internal the return value of a request job: a handler error is a result
 * too, so it keeps its class, code and cause across the wire (BullMQ's
 * `failedReason` keeps only a message). `state` tells canceled and timed-out
 * runs from failures; times are the node's epoch ms.
 */
export type ClusterJobResult = (
  | { readonly ok: true; readonly value: unknown }
  | {
      readonly ok: false;
      readonly error: SerializedError;
      readonly state?: 'canceled' | 'timed-out';
    }
) & {
  /** When the handler started on the node. */
  readonly startedAt?: number;
  /** When it finished. */
  readonly finishedAt?: number;
  /** Name of the node that ran it. */
  readonly node?: string;
};
