import { type Clock, systemClock } from './clock.js';
import { StoppedError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import {
  type ComponentDiagnostics,
  globalRegistry,
  type LifecycleState,
  type RegisteredComponent,
  type Registry,
} from './registry.js';
import { getScheduler, type Scheduler } from './scheduler.js';
import { checkDuration, checkOptions, checkString } from './validate.js';

/** Options every tickwork component accepts. */
export interface ComponentOptions {
  /** Name shown in diagnostics and logs. @defaultValue the kind and a sequence number, e.g. `ThreadDict#3` */
  name?: string;
  /** Time source. @defaultValue `systemClock` */
  clock?: Clock;
  /** pino-compatible logger. @defaultValue silent */
  logger?: Logger;
  /**
   * Registry to join, or `false` to join none.
   * @defaultValue `globalRegistry`
   */
  registry?: Registry | false;
  /** Scheduler for timers. @defaultValue the shared scheduler of `clock` */
  scheduler?: Scheduler;
}

/** Options of {@link Lifecycle.stop}. */
export interface StopOptions {
  /** How long to wait for running work to finish, ms. @defaultValue 30000 */
  timeoutMs?: number;
}

const sequence = new Map<string, number>();

function defaultName(kind: string): string {
  const n = (sequence.get(kind) ?? 0) + 1;
  sequence.set(kind, n);
  return `${kind}#${n}`;
}

/**
 * The lifecycle every component shares:
 * - `start()` runs at once (also after `stop()`: no waiting a whole period);
 * - `stop()` pauses: nothing new starts, running work finishes; it resolves
 *   `true` once idle, `false` when `timeoutMs` passed first;
 * - `kill()` ends the component for good from any state and removes it from
 *   its registry; `start()` after it throws {@link StoppedError};
 * - `await using x = new ...` kills on scope exit.
 *
 * Subclasses implement the `on*` hooks and {@link Lifecycle.whenIdle}.
 */
export abstract class Lifecycle implements RegisteredComponent, AsyncDisposable {
  /** Component class, e.g. `ThreadDict`. */
  readonly kind: string;
  /** Name shown in diagnostics and logs. */
  readonly name: string;
  /** The component's time source. */
  protected readonly clock: Clock;
  /** The component's logger. */
  protected readonly logger: Logger;
  /** The scheduler its timers go through. */
  protected readonly scheduler: Scheduler;
  private readonly registry: Registry | false;
  private current: LifecycleState = 'idle';

  /**
   * @param kind - component class name, used in messages and diagnostics
   * @param options - common component options
   */
  constructor(kind: string, options: ComponentOptions | undefined) {
    const o = checkOptions(kind, 'options', options);
    this.kind = kind;
    this.name =
      o.name === undefined ? defaultName(kind) : checkString(kind, 'options.name', o.name);
    this.clock = o.clock ?? o.scheduler?.clock ?? systemClock;
    this.logger = o.logger ?? silentLogger;
    this.scheduler = o.scheduler ?? getScheduler(this.clock);
    this.registry = o.registry ?? globalRegistry;
    if (this.registry !== false) this.registry.register(this);
  }

  /** Lifecycle state. */
  get state(): LifecycleState {
    return this.current;
  }

  /** Whether the component has not been killed. */
  isAlive(): boolean {
    return this.current !== 'killed';
  }

  /** Whether the component is running (started and not stopped or killed). */
  isStarted(): boolean {
    return this.current === 'running';
  }

  /** Starts (or resumes) the component; a no-op when running. */
  start(): this {
    if (this.current === 'killed') {
      throw new StoppedError(`${this.kind} ${this.name}: start() called after kill()`);
    }
    if (this.current === 'running') return this;
    const before = this.current;
    this.current = 'running';
    try {
      this.onStart();
    } catch (error) {
      // A start that failed did not start.
      this.current = before;
      throw error;
    }
    this.logger.info({ component: this.name, kind: this.kind }, 'started');
    return this;
  }

  /**
   * Pauses the component: nothing new starts and running work finishes.
   * Resolves `true` when idle, `false` if `timeoutMs` passed first.
   */
  async stop(options: StopOptions = {}): Promise<boolean> {
    const o = checkOptions(this.kind, 'stop options', options);
    const timeoutMs = checkDuration(this.kind, 'stop options.timeoutMs', o.timeoutMs ?? 30_000);
    if (this.current === 'running') {
      this.current = 'stopping';
      this.onStop();
    }
    const idle = await this.waitIdle(timeoutMs);
    if (this.current === 'stopping') {
      this.current = 'stopped';
      this.logger.info({ component: this.name, kind: this.kind, idle }, 'stopped');
    }
    return idle;
  }

  /**
   * Ends the component for good, from any state, and leaves the registry;
   * resolves once torn down. A call made while a first `kill()` is still
   * tearing down resolves at once, without waiting for it: such a call may
   * come from inside the teardown (a hook calling `kill()`), which would
   * otherwise wait for itself. Await the first call to know the end.
   */
  async kill(): Promise<void> {
    if (this.current === 'killed') return;
    this.current = 'killed';
    if (this.registry !== false) this.registry.unregister(this);
    await this.onKill();
    this.logger.info({ component: this.name, kind: this.kind }, 'killed');
  }

  /** Same as {@link Lifecycle.kill}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.kill();
  }

  /** Current diagnostics of the component. */
  abstract diagnostics(): ComponentDiagnostics;

  /** Begins running: arm timers. Called by `start()` when not already running. */
  protected abstract onStart(): void;
  /** Pauses: cancel timers so nothing new starts. Running work is left to finish. */
  protected abstract onStop(): void;
  /** Ends for good: cancel timers, abort or settle pending work, complete streams. */
  protected abstract onKill(): void | Promise<void>;
  /** Resolves once no work is running. */
  protected abstract whenIdle(): Promise<void>;

  /** Resolves `true` once idle, `false` after `timeoutMs` (measured on the component's scheduler). */
  private waitIdle(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = this.scheduler.at(this.clock.now() + timeoutMs, () => resolve(false));
      this.whenIdle().then(
        () => {
          timer.cancel();
          resolve(true);
        },
        () => {
          timer.cancel();
          resolve(true);
        },
      );
    });
  }
}
