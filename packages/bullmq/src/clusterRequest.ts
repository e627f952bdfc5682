import type { SerializedError } from '@tickwork/core';

/** What a cluster handler is given besides its args. */
export interface ClusterHandlerContext {
  /** The request id, which is the BullMQ job id: the same on every delivery. */
  readonly id: string;
  /** The request's key (`''` for a `command`). */
  readonly key: string;
  /** The handler name. */
  readonly target: string;
  /** 1 on the first delivery; more when a stalled run was delivered again (at-least-once). */
  readonly attempt: number;
  /** Aborted when the node is killed. */
  readonly signal: AbortSignal;
}

/**
 * A handler run on a node: a plain function of JSON-serialisable args
 * returning (or resolving to) a JSON-serialisable result.
 */
export type ClusterHandler = (args: never, context: ClusterHandlerContext) => unknown;

/** Handlers by name, as a `ClusterWorkerNode` runs them and a `ClusterWorkerProcess` types them. */
export type ClusterHandlers = { readonly [target: string]: ClusterHandler };

/** A handler's target names. */
export type ClusterTargetOf<H extends ClusterHandlers> = keyof H & string;

/** The args of a handler. */
export type ClusterArgsOf<F extends ClusterHandler> = Parameters<F>[0];

/** The result of a handler, awaited. */
export type ClusterResultOf<F extends ClusterHandler> = Awaited<ReturnType<F>>;

/** @internal the data of a request job */
export interface ClusterJobData {
  readonly key: string;
  readonly args: unknown;
}

/**
 * @internal the return value of a request job: a handler error is a result
 * too, so it keeps its class, code and cause across the wire (BullMQ's
 * `failedReason` keeps only a message).
 */
export type ClusterJobResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: SerializedError };
