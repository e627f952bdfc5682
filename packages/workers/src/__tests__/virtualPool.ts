/**
 * A WorkerProcess on a VirtualClock whose thread pool is replaced by an
 * in-process runner, so timing and bookkeeping are checked to the
 * millisecond without threads or sleeps.
 */
import { serializeError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import {
  RESULT_MARK,
  type RunnerSpec,
  type TaskMessage,
  type TaskResult,
  type TaskRunner,
  type TerminateTarget,
  WorkerProcess,
  type WorkerProcessOptions,
} from '../index.js';
import { fixture } from './helpers.js';

/** An in-process handler: args, key and upstream results in, result out. */
export type FakeHandler = (
  args: unknown,
  key: string,
  upstream: readonly unknown[] | undefined,
) => unknown;

/** Runs handlers in-process; `terminated` lists the ids whose "thread" was killed. */
export class FakeRunner implements TaskRunner {
  readonly threads = 1;
  readonly terminated: string[] = [];
  readonly initArgs: unknown;
  private readonly handlers: Record<string, FakeHandler>;

  constructor(handlers: Record<string, FakeHandler>, spec: RunnerSpec) {
    this.handlers = handlers;
    this.initArgs = spec.initArgs;
  }

  run(message: TaskMessage, abort: TerminateTarget): Promise<TaskResult> {
    return new Promise((resolve, reject) => {
      const [n, , key, target, args, upstream] = message;
      abort.addEventListener('abort', () => {
        this.terminated.push(String(n));
        reject(new Error('terminated'));
      });
      Promise.resolve()
        .then(() => this.handlers[target]!(args, key, upstream))
        .then(resolve, (e: unknown) => resolve({ [RESULT_MARK]: 'error', e: serializeError(e) }));
    });
  }

  destroy(): Promise<void> {
    return Promise.resolve();
  }
}

/** What {@link harness} returns. */
export interface Harness {
  clock: VirtualClock;
  pool: WorkerProcess;
  runner: () => FakeRunner;
  log: string[];
}

/** A pool on a VirtualClock whose handlers `work` for args ms, or `hang`. */
export function harness(
  options: Partial<WorkerProcessOptions> = {},
  extra: Record<string, FakeHandler> = {},
): Harness {
  const clock = new VirtualClock({ now: Date.UTC(2026, 0, 1) });
  const start = clock.now();
  const log: string[] = [];
  let runner: FakeRunner | undefined;
  const handlers: Record<string, FakeHandler> = {
    work: (ms, key) => {
      log.push(`${key}@${clock.now() - start}`);
      return new Promise((resolve) => clock.setTimeout(() => resolve(key), ms as number));
    },
    hang: () => new Promise(() => {}),
    fail: () => {
      throw new Error('read failed');
    },
    ...extra,
  };
  class VirtualPool extends WorkerProcess {
    protected override createRunner(spec: RunnerSpec): TaskRunner {
      runner = new FakeRunner(handlers, spec);
      return runner;
    }
  }
  const pool = new VirtualPool({
    executor: fixture('basic'),
    clock,
    registry: false,
    maxThreads: 1,
    ...options,
  });
  return { clock, pool, runner: () => runner!, log };
}
