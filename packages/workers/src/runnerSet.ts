import type { Logger } from '@tickwork/core';
import type { TaskRunner } from './taskRunner.js';

interface RunnerState {
  inFlight: number;
  retired: boolean;
  destroyed: Promise<void> | undefined;
  onDestroyed: (() => void) | undefined;
}

/**
 * The runners of a pool: the current one, which new requests go to, and
 * those retired by `bind`, each shut down once its last request let go.
 * @internal
 */
export class RunnerSet {
  /** The runner new requests are dispatched to. */
  current: TaskRunner;
  private readonly states = new Map<TaskRunner, RunnerState>();
  private readonly make: (executor: string, initArgs: unknown) => TaskRunner;
  private readonly logger: Logger;
  private readonly name: string;

  /**
   * @param make - makes the runner of an executor
   * @param executor - file URL of the first executor
   * @param initArgs - its `initArgs`
   * @param logger - where shutdown failures go
   * @param name - component name for logs
   */
  constructor(
    make: (executor: string, initArgs: unknown) => TaskRunner,
    executor: string,
    initArgs: unknown,
    logger: Logger,
    name: string,
  ) {
    this.make = make;
    this.logger = logger;
    this.name = name;
    this.current = this.add(executor, initArgs);
  }

  /** Live threads over every runner. */
  get threads(): number {
    let n = 0;
    for (const r of this.states.keys()) n += r.threads;
    return n;
  }

  /** A request was dispatched to `runner`. */
  started(runner: TaskRunner): void {
    this.states.get(runner)!.inFlight++;
  }

  /** A request's thread let go of it; a retired runner with none left shuts down. */
  finished(runner: TaskRunner): void {
    const state = this.states.get(runner);
    if (state !== undefined && --state.inFlight === 0 && state.retired) void this.destroy(runner);
  }

  /**
   * Makes a runner for a new executor the current one and retires the old
   * one; resolves once the old one has shut down.
   */
  swap(executor: string, initArgs: unknown): Promise<void> {
    const old = this.current;
    this.current = this.add(executor, initArgs);
    const state = this.states.get(old)!;
    state.retired = true;
    const gone = new Promise<void>((resolve) => {
      state.onDestroyed = resolve;
    });
    if (state.inFlight === 0) void this.destroy(old);
    return gone;
  }

  /** Shuts every runner down (pending tasks reject). */
  async destroyAll(): Promise<void> {
    await Promise.all([...this.states.keys()].map((r) => this.destroy(r)));
  }

  private add(executor: string, initArgs: unknown): TaskRunner {
    const runner = this.make(executor, initArgs);
    this.states.set(runner, {
      inFlight: 0,
      retired: false,
      destroyed: undefined,
      onDestroyed: undefined,
    });
    return runner;
  }

  private destroy(runner: TaskRunner): Promise<void> {
    const state = this.states.get(runner);
    if (state === undefined) return Promise.resolve();
    const done = (): void => {
      this.states.delete(runner);
      state.onDestroyed?.();
    };
    state.destroyed ??= runner.destroy().then(done, (error: unknown) => {
      this.logger.error(
        { err: error, component: this.name },
        'WorkerProcess: shutting a thread pool down failed',
      );
      done();
    });
    return state.destroyed;
  }
}
