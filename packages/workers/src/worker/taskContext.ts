import { parentPort } from 'node:worker_threads';
import { AbortError, StoppedError, TimeoutError } from '@tickwork/core';
import {
  AbortCode,
  type ExecutorContext,
  MESSAGE_MARK,
  type ProgressMessage,
  seqOf,
  type TaskMessage,
} from '../protocol.js';

type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

// `Atomics.waitAsync` is in Node >= 16 but only in TypeScript's ES2024 lib.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(table: Int32Array, index: number, value: number): WaitAsyncResult;
  }
).waitAsync;

const NO_UPSTREAM: readonly unknown[] = Object.freeze([]);

/**
 * The {@link ExecutorContext} of one task. Abort news comes through the
 * shared abort table: `aborted` reads it synchronously, and the first access
 * to `signal` (or an async handler the entry races) starts one
 * `Atomics.waitAsync` on the task's cell, so a task that never looks costs
 * nothing.
 */
export class TaskContext implements ExecutorContext {
  readonly key: string;
  readonly target: string;
  readonly upstream: readonly unknown[];
  private readonly n: number;
  private readonly seq: number;
  private readonly slot: number;
  private readonly limitMs: number;
  private readonly table: Int32Array;
  private controller: AbortController | undefined;
  private listeners: ((reason: Error) => void)[] | undefined;
  private watching = false;
  private finished = false;
  private reason: Error | undefined;
  /** Progress messages posted so far. */
  progressCount = 0;

  /**
   * @param message - the task
   * @param table - the pool's abort table
   */
  constructor(message: TaskMessage, table: Int32Array) {
    this.n = message[0];
    this.seq = seqOf(message[0]);
    this.slot = message[1];
    this.key = message[2];
    this.target = message[3];
    this.upstream = message[5] ?? NO_UPSTREAM;
    this.limitMs = message[6] ?? 0;
    this.table = table;
  }

  get id(): string {
    return String(this.n);
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
      else this.watch();
    }
    return this.controller.signal;
  }

  get aborted(): boolean {
    if (this.reason === undefined && !this.finished) this.check();
    return this.reason !== undefined;
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  progress(value: unknown): void {
    if (this.finished) return;
    const message: ProgressMessage = {
      [MESSAGE_MARK]: 'progress',
      s: this.seq,
      l: this.slot,
      v: value,
    };
    parentPort?.postMessage(message);
    // Counted only once posted: a value that cannot be cloned throws above.
    this.progressCount++;
  }

  /** Calls `listener` with the reason once the task is aborted (at once if it already is). */
  onAbort(listener: (reason: Error) => void): void {
    if (this.reason !== undefined) {
      listener(this.reason);
      return;
    }
    if (this.listeners === undefined) this.listeners = [listener];
    else this.listeners.push(listener);
    this.watch();
  }

  /** The task is over: stop watching and release the waiter, if any. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    // Wakes our own waiter so it does not linger; it sees `finished` and stops.
    if (this.watching) Atomics.notify(this.table, 2 * this.slot);
  }

  private watch(): void {
    if (this.watching || this.finished) return;
    this.watching = true;
    this.wait();
  }

  private wait(): void {
    const index = 2 * this.slot;
    for (;;) {
      if (this.finished || this.check()) return;
      const w = waitAsync(this.table, index, Atomics.load(this.table, index));
      if (w.async) {
        w.value.then(() => this.wait());
        return;
      }
      // 'not-equal': the cell changed between the load and the wait; look again.
    }
  }

  /** Reads the abort cell; fires the abort when it names this task. */
  private check(): boolean {
    const index = 2 * this.slot;
    if (Atomics.load(this.table, index) !== this.seq) return false;
    this.fire(Atomics.load(this.table, index + 1));
    return true;
  }

  private fire(code: number): void {
    if (this.reason !== undefined) return;
    const what = `WorkerProcess: request ${this.n} (target "${this.target}")`;
    this.reason =
      code === AbortCode.timedOut
        ? new TimeoutError(`${what} timed out after ${this.limitMs} ms`, this.limitMs)
        : code === AbortCode.stopped
          ? new StoppedError(`${what} was stopped: the pool was killed`)
          : new AbortError(`${what} was canceled`);
    this.controller?.abort(this.reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    if (listeners !== undefined) for (const l of listeners) l(this.reason);
  }
}
