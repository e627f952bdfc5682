import { AbortError, KeyNotFoundError, StoppedError } from '@tickwork/core';
import type { PeriodicKey } from './periodicKey.js';
import type { RequestEngine } from './requestEngine.js';
import type { CommandOptions, ParsedSend } from './requestOptions.js';
import type { ParsedWorkerProcessOptions } from './workerProcessOptions.js';
import {
  isTerminal,
  type RequestCallback,
  type RequestId,
  type TerminalState,
  type WorkerRequest,
} from './workerRequest.js';

/**
 * How requests enter a pool: `send` (with its `signal`, `dedupe` and `after`
 * options), `command` (a barrier behind everything unsettled) and the
 * refreshes of periodic keys. Each ends in `engine.enqueue`, or settles
 * without running (refused, already aborted, joined, upstream failed).
 * @internal
 */
export class RequestIntake {
  private readonly engine: RequestEngine;
  private readonly label: string;
  private readonly config: ParsedWorkerProcessOptions;
  private readonly isAlive: () => boolean;

  /**
   * @param engine - the pool's engine
   * @param label - `WorkerProcess <name>`, for messages
   * @param config - the pool's options
   * @param isAlive - whether the pool was not killed
   */
  constructor(
    engine: RequestEngine,
    label: string,
    config: ParsedWorkerProcessOptions,
    isAlive: () => boolean,
  ) {
    this.engine = engine;
    this.label = label;
    this.config = config;
    this.isAlive = isAlive;
  }

  /** A new request from `send`. */
  send(key: string, target: string, args: unknown, o: ParsedSend<unknown>): WorkerRequest {
    const engine = this.engine;
    const request = engine.create(key, target, args, o.priority, o.group);
    request.callback = o.callback;
    if (o.onProgress !== undefined) request.x.onProgress = o.onProgress;
    request.timeoutMs = o.timeoutMs ?? this.config.timeoutMs;
    const twin = o.dedupe && engine.accepting ? engine.findDuplicate(key, target, args) : undefined;
    // A joiner is never joined itself: it runs nothing.
    engine.register(request, twin === undefined);
    if (this.admit(request, o.signal)) {
      if (twin !== undefined) this.join(request, twin);
      else if (o.after !== undefined && o.after.length > 0) this.waitFor(request, o.after);
      else engine.enqueue(request, request.queuedAt);
    }
    return request;
  }

  /** A new request from `command`: it waits for every request unsettled now. */
  command(target: string, args: unknown, o: CommandOptions<unknown>): WorkerRequest {
    const engine = this.engine;
    const earlier = engine.unsettledRequests();
    // Infinite priority: once its turn comes it goes before later sends.
    const request = engine.create(target, target, args, Number.POSITIVE_INFINITY, undefined);
    request.callback = o.callback as RequestCallback<unknown> | undefined;
    const x = request.x;
    x.command = true;
    const limit = o.timeoutMs ?? this.config.timeoutMs;
    if (limit > 0) {
      x.deadlineMs = limit;
      engine.armTimer(request, request.queuedAt + limit);
    }
    engine.register(request, false);
    if (this.admit(request, o.signal)) {
      for (const r of earlier) {
        x.blockers++;
        r.onSettled(() => {
          if (--x.blockers === 0 && request.state === 'waiting') engine.enqueue(request);
        });
      }
      if (x.blockers === 0) engine.enqueue(request);
    }
    return request;
  }

  /** A refresh of a periodic key, for its slot due at `dueAt`. */
  periodic(periodic: PeriodicKey, dueAt: number): WorkerRequest | undefined {
    const engine = this.engine;
    if (!engine.accepting) return undefined;
    const o = periodic.options;
    const request = engine.create(
      periodic.key,
      periodic.target,
      periodic.args,
      o.priority,
      undefined,
    );
    request.timeoutMs = o.timeoutMs ?? this.config.timeoutMs;
    request.x.onStart = (r) => periodic.runStarted(dueAt, r.startedAt);
    request.onSettled((r) => periodic.runSettled(r));
    engine.register(request, true);
    engine.enqueue(request);
    return request;
  }

  /**
   * Checks a new request may go ahead: refused after close/kill, canceled
   * when its signal is already aborted. Those settlements are deferred to a
   * microtask so a callback never runs inside `send`.
   */
  private admit(request: WorkerRequest, signal: AbortSignal | undefined): boolean {
    const engine = this.engine;
    if (!engine.accepting) {
      const why = this.isAlive() ? 'closing' : 'killed';
      const error = new StoppedError(
        `${this.label}: request ${request.id} refused: the pool is ${why}`,
      );
      engine.settleSoon(request, 'canceled', error);
      return false;
    }
    if (signal === undefined) return true;
    const abort = (): void => {
      const what = `${this.label}: request ${request.id} (target "${request.target}")`;
      const error = new AbortError(`${what} was canceled by its signal`, { cause: signal.reason });
      engine.settle(request, 'canceled', undefined, error);
    };
    if (signal.aborted) {
      queueMicrotask(abort);
      return false;
    }
    request.x.signal = signal;
    request.x.signalListener = abort;
    signal.addEventListener('abort', abort, { once: true });
    return true;
  }

  /** `dedupe`: `request` shares `primary`'s run and outcome. */
  private join(request: WorkerRequest, primary: WorkerRequest): void {
    request.x.primary = primary;
    const px = primary.x;
    if (px.joiners === undefined) px.joiners = [request];
    else px.joiners.push(request);
    request.state = primary.state;
    request.startedAt = primary.startedAt;
    this.engine.countCoalesced(request);
  }

  /** `after`: runs once every upstream completed; settles without running otherwise. */
  private waitFor(request: WorkerRequest, ids: readonly RequestId[]): void {
    const engine = this.engine;
    for (const id of ids) {
      const up = engine.find(id);
      if (up === undefined) {
        const error = new KeyNotFoundError(
          id,
          `${this.label}: request ${request.id} needs upstream request ${id}, which is unknown or forgotten (keepSettled: ${this.config.keepSettled})`,
        );
        engine.settleSoon(request, 'failed', error);
        return;
      }
      if (isTerminal(up.state) && up.state !== 'completed') {
        const [state, error] = this.upstreamFailure(request, up);
        engine.settleSoon(request, state, error);
        return;
      }
    }
    const x = request.x;
    const upstream = new Array<unknown>(ids.length);
    x.upstream = upstream;
    ids.forEach((id, i) => {
      const up = engine.find(id)!;
      if (up.state === 'completed') {
        upstream[i] = up.result;
        return;
      }
      x.blockers++;
      up.onSettled((done) => {
        if (isTerminal(request.state)) return;
        if (done.state === 'completed') {
          upstream[i] = done.result;
          if (--x.blockers === 0) engine.enqueue(request);
        } else {
          const [state, error] = this.upstreamFailure(request, done);
          engine.settle(request, state, undefined, error);
        }
      });
    });
    if (x.blockers === 0) engine.enqueue(request);
  }

  /** How a dependent ends when an upstream did not complete: canceled with it, else failed. */
  private upstreamFailure(request: WorkerRequest, up: WorkerRequest): [TerminalState, Error] {
    const why = up.error === undefined ? '' : `: ${up.error.message}`;
    const error = new AbortError(
      `${this.label}: request ${request.id} did not run: upstream request ${up.id} (target "${up.target}") ended ${up.state}${why}`,
      { cause: up.error },
    );
    return [up.state === 'canceled' ? 'canceled' : 'failed', error];
  }
}
