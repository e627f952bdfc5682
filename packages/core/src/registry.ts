import type { StatsSnapshot } from './stats.js';

/** Any JSON value; the shape of per-key detail in a diagnostics snapshot. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | readonly JsonValue[]
  | { readonly [key: string]: JsonValue };

/** The states every component goes through. */
export type LifecycleState = 'idle' | 'running' | 'stopping' | 'stopped' | 'killed';

/** Diagnostics of one item inside a component: a key, a worker target, a cron job. */
export interface ItemDiagnostics {
  /** The item's name (key, target, job name). */
  name: string;
  /** Its counters and histograms. */
  stats: StatsSnapshot;
  /** Kind-specific detail (period, age, last value time, queue size, ...). */
  detail?: { readonly [key: string]: JsonValue };
}

/** Diagnostics of one component, as the registry reports them. */
export interface ComponentDiagnostics {
  /** Component class, e.g. `ThreadDict`. */
  kind: string;
  /** The component's name (unique names make dashboards readable). */
  name: string;
  /** Lifecycle state. */
  state: LifecycleState;
  /** The component's own counters (for a dictionary: all keys together). */
  stats: StatsSnapshot;
  /** Per-item diagnostics, when the component has items. */
  items?: ItemDiagnostics[];
  /** Kind-specific detail. */
  detail?: { readonly [key: string]: JsonValue };
}

/** What the registry needs of a component. {@link Lifecycle} implements it. */
export interface RegisteredComponent {
  /** Component class, e.g. `ThreadDict`. */
  readonly kind: string;
  /** The component's name. */
  readonly name: string;
  /** Pauses: nothing new starts; resolves `true` once idle, `false` on timeout. */
  stop(options?: { timeoutMs?: number }): Promise<boolean>;
  /** Ends the component for good. */
  kill(): Promise<void>;
  /** Current diagnostics. */
  diagnostics(): ComponentDiagnostics;
}

/** A registry snapshot: every live component's diagnostics at one instant. */
export interface RegistrySnapshot {
  /** When the snapshot was taken, epoch ms. */
  takenAt: number;
  /** One entry per live component, in registration order. */
  components: ComponentDiagnostics[];
}

/**
 * The live components of a process, as fandango's `INSTANCES` list was, but
 * held weakly: a component that is killed leaves at once, and one that is
 * dropped by its owner (and has no timers pending) is garbage-collected and
 * leaves by itself, so the list never grows for ever.
 */
export class Registry {
  private readonly refs = new Set<WeakRef<RegisteredComponent>>();
  private readonly index = new WeakMap<RegisteredComponent, WeakRef<RegisteredComponent>>();
  private readonly finalizer = new FinalizationRegistry<WeakRef<RegisteredComponent>>((ref) =>
    this.refs.delete(ref),
  );

  /** Adds a component (again is a no-op). */
  register(component: RegisteredComponent): void {
    if (this.index.has(component)) return;
    const ref = new WeakRef(component);
    this.refs.add(ref);
    this.index.set(component, ref);
    this.finalizer.register(component, ref, ref);
  }

  /** Removes a component (unknown ones are ignored). */
  unregister(component: RegisteredComponent): void {
    const ref = this.index.get(component);
    if (ref === undefined) return;
    this.refs.delete(ref);
    this.index.delete(component);
    this.finalizer.unregister(ref);
  }

  /** Live components in registration order, optionally of one kind. */
  list(kind?: string): RegisteredComponent[] {
    const out: RegisteredComponent[] = [];
    for (const ref of this.refs) {
      const c = ref.deref();
      if (c === undefined) this.refs.delete(ref);
      else if (kind === undefined || c.kind === kind) out.push(c);
    }
    return out;
  }

  /** Number of live components. */
  get size(): number {
    return this.list().length;
  }

  /**
   * Stops every component (optionally of one kind) in parallel; resolves
   * `true` when all of them went idle within `timeoutMs`.
   */
  async stopAll(options: { timeoutMs?: number; kind?: string } = {}): Promise<boolean> {
    const { kind, ...stopOptions } = options;
    const results = await Promise.all(this.list(kind).map((c) => c.stop(stopOptions)));
    return results.every(Boolean);
  }

  /** Kills every component (optionally of one kind); they leave the registry. */
  async killAll(options: { kind?: string } = {}): Promise<void> {
    await Promise.all(this.list(options.kind).map((c) => c.kill()));
  }

  /** Every live component's diagnostics. */
  snapshot(now: number = Date.now()): RegistrySnapshot {
    return { takenAt: now, components: this.list().map((c) => c.diagnostics()) };
  }
}

/** The process-wide registry components join unless given another. */
export const globalRegistry: Registry = new Registry();
