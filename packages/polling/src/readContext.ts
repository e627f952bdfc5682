import type { Clock } from '@tickwork/core';
import type { KeyState } from './keyState.js';
import type { ReadContext, ReadManyContext } from './threadDictOptions.js';
import type { Entry } from './threadDictTypes.js';

/**
 * A cancellable context whose `AbortSignal` is made only when a read asks for
 * it: reads that never look at `signal` allocate no controller. Once aborted
 * it stays aborted.
 * @internal
 */
export class LazySignal {
  private controller: AbortController | null = null;
  private reason: unknown = undefined;
  private aborted = false;

  /** The signal, made on first access (already aborted if abort came first). */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Whether `signal` was asked for or `abort` called: the context is then not reused. */
  get used(): boolean {
    return this.controller !== null || this.aborted;
  }

  /** Aborts the signal (now, or when first asked for) with `reason`. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/**
 * The context handed to `read(key, ctx)`. Synchronous reads share one per
 * dict, pointed at each key in turn (it cannot outlive a call that has
 * returned); a read that returns a promise keeps the context it was given
 * for itself, and the dict makes a new shared one. So only keys with async
 * reads in flight cost a context.
 * @internal
 */
export class KeyReadContext<V> extends LazySignal implements ReadContext<V> {
  /** The key being read. */
  state: KeyState<V>;
  private readonly clock: Clock;
  private readonly epoch: number;

  constructor(state: KeyState<V>, clock: Clock, epoch: number) {
    super();
    this.state = state;
    this.clock = clock;
    this.epoch = epoch;
  }

  /** The key's entry as the read sees it. */
  get previous(): Entry<V> {
    return this.state.entry(this.clock.now() - this.epoch, this.epoch);
  }

  /** Slot of the read in progress, epoch ms. */
  get dueAt(): number {
    return this.epoch + this.state.readDue;
  }
}

/** The context of one `readMany` batch. @internal */
export class BatchReadContext extends LazySignal implements ReadManyContext {}
