import { describe, expect, it } from 'vitest';
import { ConfigError, StoppedError } from '../errors.js';
import { Lifecycle } from '../lifecycle.js';
import { type ComponentDiagnostics, Registry } from '../registry.js';
import { Stats } from '../stats.js';
import { VirtualClock } from '../testing/virtualClock.js';

/** A component whose work is a promise the test resolves by hand. */
class Job extends Lifecycle {
  readonly calls: string[] = [];
  private running: Promise<void> | undefined;
  private finish: (() => void) | undefined;

  begin(): void {
    this.running = new Promise((r) => {
      this.finish = r;
    });
  }
  end(): void {
    this.finish?.();
    this.running = undefined;
  }
  diagnostics(): ComponentDiagnostics {
    return { kind: this.kind, name: this.name, state: this.state, stats: new Stats().snapshot() };
  }
  protected onStart(): void {
    this.calls.push('start');
  }
  protected onStop(): void {
    this.calls.push('stop');
  }
  protected onKill(): void {
    this.calls.push('kill');
  }
  protected whenIdle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }
}

function setup() {
  const clock = new VirtualClock({ now: 0 });
  const registry = new Registry();
  const job = new Job('Job', { clock, registry, name: 'job-1' });
  return { clock, registry, job };
}

describe('Lifecycle', () => {
  it('goes idle -> running -> stopped -> running -> killed', async () => {
    const { job, registry } = setup();
    expect(job.state).toBe('idle');
    expect(job.start()).toBe(job);
    job.start(); // no-op when running
    expect(job.isStarted()).toBe(true);
    await expect(job.stop()).resolves.toBe(true);
    expect(job.state).toBe('stopped');
    job.start();
    expect(job.calls).toEqual(['start', 'stop', 'start']);
    expect(registry.list()).toEqual([job]);
    await job.kill();
    await job.kill();
    expect(job.state).toBe('killed');
    expect(job.isAlive()).toBe(false);
    expect(job.calls).toEqual(['start', 'stop', 'start', 'kill']);
    expect(registry.list()).toEqual([]);
  });

  it('stop resolves true once running work finishes', async () => {
    const { job, clock } = setup();
    job.start();
    job.begin();
    let result: boolean | undefined;
    void job.stop({ timeoutMs: 1_000 }).then((r) => {
      result = r;
    });
    await clock.advance(500);
    expect(result).toBeUndefined();
    expect(job.state).toBe('stopping');
    job.end();
    await clock.advance(0);
    expect(result).toBe(true);
    expect(job.state).toBe('stopped');
  });

  it('stop resolves false when work outlives the timeout (virtual time)', async () => {
    const { job, clock } = setup();
    job.start();
    job.begin();
    const stopped = job.stop({ timeoutMs: 1_000 });
    await clock.advance(1_000);
    await expect(stopped).resolves.toBe(false);
  });

  it('kill works from every state and start after kill throws StoppedError', async () => {
    for (const prepare of [
      async (_j: Job) => {},
      async (j: Job) => void j.start(),
      async (j: Job) => {
        j.start();
        await j.stop();
      },
    ]) {
      const { job } = setup();
      await prepare(job);
      await job.kill();
      expect(job.state).toBe('killed');
      expect(() => job.start()).toThrow(StoppedError);
      expect(() => job.start()).toThrow('Job job-1: start() called after kill()');
    }
  });

  it('a kill() from inside the teardown neither waits for itself nor tears down twice', async () => {
    let teardowns = 0;
    class SelfKill extends Job {
      protected override async onKill(): Promise<void> {
        teardowns++;
        await Promise.resolve();
        await this.kill(); // e.g. a stop hook that kills its component
      }
    }
    const job = new SelfKill('Job', { registry: false });
    job.start();
    await job.kill();
    expect(teardowns).toBe(1);
    expect(job.state).toBe('killed');
  });

  it('kills on `await using` scope exit', async () => {
    const { clock, registry } = setup();
    let outer: Job | undefined;
    {
      await using job = new Job('Job', { clock, registry });
      job.start();
      outer = job;
    }
    expect(outer?.state).toBe('killed');
  });

  it('names components by kind and sequence unless named, and validates options', async () => {
    const registry = new Registry();
    const a = new Job('Thing', { registry });
    const b = new Job('Thing', { registry });
    expect(a.name).toMatch(/^Thing#\d+$/);
    expect(a.name).not.toBe(b.name);
    expect(() => new Job('Thing', { name: '' })).toThrow(
      'Thing: options.name must be a non-empty string (got "")',
    );
    // @ts-expect-error: options must be an object
    expect(() => new Job('Thing', 5)).toThrow(ConfigError);
    await expect(a.stop({ timeoutMs: -1 })).rejects.toThrow(ConfigError);
  });

  it('stays in its previous state when onStart throws', () => {
    class Broken extends Job {
      protected override onStart(): void {
        throw new Error('cannot start');
      }
    }
    const job = new Broken('Job', { registry: false });
    expect(() => job.start()).toThrow('cannot start');
    expect(job.state).toBe('idle');
    expect(job.isStarted()).toBe(false);
  });

  it('joins no registry when told so', () => {
    const registry = new Registry();
    new Job('Job', { registry: false });
    expect(registry.list()).toEqual([]);
  });
});
