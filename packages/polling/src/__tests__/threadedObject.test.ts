import { ConfigError, Registry, StoppedError, TimeoutError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { ThreadedObject } from '../index.js';
import { rel, thrown, virtualTime } from './helpers.js';

describe('ThreadedObject: periodic runs', () => {
  it('keeps a start-to-start period with run time compensated, drift-free over 1000 periods', async () => {
    const { clock, delay } = virtualTime();
    const starts: number[] = [];
    let n = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: async () => {
        starts.push(clock.now());
        await delay(10 + (n++ % 7) * 11); // 10..76 ms: varying run time
      },
    });
    obj.start();
    await clock.advance(100_000);
    expect(starts).toHaveLength(1001);
    expect(rel(starts)).toEqual(Array.from({ length: 1001 }, (_, i) => i * 100));
    expect(obj.getCount()).toBe(1000); // the last run is still going
    expect(obj.stats().skipped).toBe(0);
    await obj.kill();
  });

  it('awaits async targets: count and results only after they settle', async () => {
    const { clock, delay } = virtualTime();
    const results: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: async () => {
        await delay(40);
        return clock.now();
      },
    });
    obj.results$.subscribe((r) => results.push(r));
    obj.start();
    await clock.advance(39);
    expect(obj.getCount()).toBe(0);
    expect(obj.stats().running).toBe(1);
    await clock.advance(1);
    expect(obj.getCount()).toBe(1);
    expect(rel(results)).toEqual([40]);
    await obj.kill();
  });

  it("overrun 'skip' (default): a slot falling due during a run is a counted skip, runs never overlap", async () => {
    const { clock, delay } = virtualTime();
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: async () => {
        starts.push(clock.now());
        maxActive = Math.max(maxActive, ++active);
        await delay(250);
        active--;
      },
    });
    obj.start();
    await clock.advance(1000);
    expect(rel(starts)).toEqual([0, 300, 600, 900]);
    expect(maxActive).toBe(1);
    expect(obj.stats().skipped).toBe(7); // 100, 200, 400, 500, 700, 800, 1000
    await obj.kill();
  });

  it("overrun 'queue': runs once right after the overrunning run, further slots skipped", async () => {
    const { clock, delay } = virtualTime();
    const starts: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      overrun: 'queue',
      target: async () => {
        starts.push(clock.now());
        await delay(250);
      },
    });
    obj.start();
    await clock.advance(800);
    // 0-250 runs; slot 100 queued, 200 skipped; queued run 250-500; 300 queued, 400 skipped;
    // slot 500 supersedes the queued 300 (skipped); 600 queued, 700 skipped; queued run at 750.
    expect(rel(starts)).toEqual([0, 250, 500, 750]);
    expect(obj.stats().skipped).toBe(4);
    expect(obj.stats().lateness.max).toBeCloseTo(150, 0);
    await obj.kill();
  });

  it("overrun 'parallel': a slot starts another run while one is going", async () => {
    const { clock, delay } = virtualTime();
    let active = 0;
    let maxActive = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      overrun: 'parallel',
      target: async () => {
        maxActive = Math.max(maxActive, ++active);
        await delay(250);
        active--;
      },
    });
    obj.start();
    await clock.advance(1000);
    expect(maxActive).toBe(3);
    expect(obj.stats().skipped).toBe(0);
    await obj.kill();
  });

  it('abandons a run over timeoutMs with a TimeoutError on errors$, and keeps its schedule', async () => {
    const { clock } = virtualTime();
    const errors: Error[] = [];
    let calls = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      timeoutMs: 50,
      target: () => {
        calls++;
        return new Promise<void>(() => {});
      },
    });
    obj.errors$.subscribe((e) => errors.push(e));
    obj.start();
    await clock.advance(300);
    expect(calls).toBe(4);
    expect(errors).toHaveLength(3);
    expect(errors[0]).toBeInstanceOf(TimeoutError);
    expect(obj.getErrors()).toBe(3);
    expect(obj.stats().lastError?.name).toBe('TimeoutError');
    await obj.kill();
  });

  it('reports failures on errors$ and counts them; a throwing target does not stop the schedule', async () => {
    const { clock } = virtualTime();
    const errors: Error[] = [];
    let n = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => {
        n++;
        if (n % 2 === 0) throw new Error(`fail ${n}`);
        return n;
      },
    });
    obj.errors$.subscribe((e) => errors.push(e));
    obj.start();
    await clock.advance(500);
    expect(n).toBe(6);
    expect(obj.getCount()).toBe(6);
    expect(obj.getErrors()).toBe(3);
    expect(errors.map((e) => e.message)).toEqual(['fail 2', 'fail 4', 'fail 6']);
    await obj.kill();
  });
});

describe('ThreadedObject: hooks, setPeriod, setTarget', () => {
  it('passes startHook args to the first run after each start, loopHook args to the others', async () => {
    const { clock } = virtualTime();
    const seen: string[] = [];
    let loops = 0;
    const obj = new ThreadedObject<[string]>({
      clock,
      registry: false,
      periodMs: 100,
      target: (arg) => {
        seen.push(arg);
      },
      startHook: () => ['start'],
      loopHook: () => (++loops % 2 === 0 ? [`loop${loops}`] : undefined), // undefined reuses the last args
    });
    obj.start();
    await clock.advance(300);
    await obj.stop();
    obj.start();
    await clock.advance(0);
    expect(seen).toEqual(['start', 'start', 'loop2', 'loop2', 'start']);
    await obj.kill();
  });

  it('awaits stopHook in stop() and calls waitHook with the time to the next run', async () => {
    const { clock, delay } = virtualTime();
    const waits: number[] = [];
    let stopped = 0;
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => delay(30),
      waitHook: (ms) => waits.push(ms),
      stopHook: async () => {
        await delay(10);
        stopped++;
      },
    });
    obj.start();
    await clock.advance(150);
    expect(waits).toEqual([70, 70]);
    const done = obj.stop();
    await clock.advance(10);
    await expect(done).resolves.toBe(true);
    expect(stopped).toBe(1);
    await obj.kill();
    expect(stopped).toBe(1);
  });

  it('setPeriod takes effect from the next slot', async () => {
    const { clock } = virtualTime();
    const starts: number[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => starts.push(clock.now()),
    });
    obj.start();
    await clock.advance(250);
    obj.setPeriod(40);
    expect(obj.getNext()).toBe(clock.now()); // max(last slot 200 + 40, now 250)
    await clock.advance(150);
    // Last slot 200; next at max(200 + 40, now = 250) = 250, then every 40.
    expect(rel(starts)).toEqual([0, 100, 200, 250, 290, 330, 370]);
    expect(obj.getPeriod()).toBe(40);
    await obj.kill();
  });

  it('setTarget swaps the work for the next run', async () => {
    const { clock } = virtualTime();
    const seen: string[] = [];
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => seen.push('a'),
    });
    obj.start();
    await clock.advance(100);
    obj.setTarget(() => seen.push('b'));
    await clock.advance(100);
    expect(seen).toEqual(['a', 'a', 'b']);
    await obj.kill();
  });
});

describe('ThreadedObject: lifecycle, getters, streams', () => {
  it('stop() resolves true once the running target finished, false on its timeout', async () => {
    const { clock, delay } = virtualTime();
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => delay(80),
    });
    obj.start();
    await clock.advance(10);
    const stopping = obj.stop({ timeoutMs: 100 });
    await clock.advance(70);
    await expect(stopping).resolves.toBe(true);
    expect(obj.state).toBe('stopped');
    obj.start();
    await clock.advance(10);
    const late = obj.stop({ timeoutMs: 20 });
    await clock.advance(20);
    await expect(late).resolves.toBe(false);
    await obj.kill();
  });

  it('fills the fandango getters', async () => {
    const { clock, delay } = virtualTime();
    const obj = new ThreadedObject({
      clock,
      registry: false,
      periodMs: 100,
      target: () => delay(25),
    });
    expect(obj.isAlive()).toBe(true);
    expect(obj.isStarted()).toBe(false);
    expect(obj.getNext()).toBeNull();
    obj.start();
    await clock.advance(230);
    expect(obj.isStarted()).toBe(true);
    expect(obj.getCount()).toBe(3);
    expect(obj.getErrors()).toBe(0);
    expect(obj.getDelay()).toBe(0);
    expect(obj.getAccDelay()).toBe(0);
    expect(obj.getAvgDelay()).toBe(0);
    expect(obj.getUsage()).toBeCloseTo(0.25);
    expect(obj.getLast()).toBe(clock.now() - 30);
    expect(obj.getNext()).toBe(clock.now() + 70);
    expect(obj.getStarted()).toBe(clock.now() - 230);
    const d = obj.diagnostics();
    expect(d).toMatchObject({
      kind: 'ThreadedObject',
      state: 'running',
      detail: { periodMs: 100, overrun: 'skip' },
    });
    await obj.kill();
    expect(obj.isAlive()).toBe(false);
  });

  it('completes results$ and errors$ on kill()', async () => {
    const { clock } = virtualTime();
    const obj = new ThreadedObject({ clock, registry: false, periodMs: 100, target: () => 1 });
    let completed = 0;
    obj.results$.subscribe({ complete: () => completed++ });
    obj.errors$.subscribe({ complete: () => completed++ });
    obj.start();
    await clock.advance(100);
    await obj.kill();
    expect(completed).toBe(2);
  });

  it('rejects bad options with a ConfigError naming the option', () => {
    const bad: [object, string][] = [
      [
        { periodMs: Number.NaN },
        'ThreadedObject: options.periodMs must be a finite number from 1 to 2147483647 (got NaN)',
      ],
      [
        { periodMs: 0 },
        'ThreadedObject: options.periodMs must be a finite number from 1 to 2147483647 (got 0)',
      ],
      [
        { minWaitMs: -1 },
        'ThreadedObject: options.minWaitMs must be a finite number from 0 to 2147483647 (got -1)',
      ],
      [{ first: 1.5 }, 'ThreadedObject: options.first must be an integer >= 0 (got 1.5)'],
      [
        { overrun: 'drop' },
        "ThreadedObject: options.overrun must be one of 'skip', 'queue', 'parallel' (got \"drop\")",
      ],
      [{ target: 42 }, 'ThreadedObject: options.target must be a function (got 42)'],
      [{ loopHook: 'x' }, 'ThreadedObject: options.loopHook must be a function (got "x")'],
      [
        { timeoutMs: 0 },
        'ThreadedObject: options.timeoutMs must be a finite number from 1 to 2147483647 (got 0)',
      ],
    ];
    for (const [options, message] of bad) {
      const error = thrown(() => new ThreadedObject({ registry: false, ...options } as never));
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toBe(message);
    }
    const obj = new ThreadedObject({ registry: false });
    expect(() => obj.start()).toThrow(ConfigError);
    expect(() => obj.setPeriod(-5)).toThrow(
      'ThreadedObject: periodMs must be a finite number from 1 to 2147483647 (got -5)',
    );
    expect(() => obj.setTarget(null as never)).toThrow(ConfigError);
  });

  it('start() after kill() throws StoppedError', async () => {
    const obj = new ThreadedObject({ registry: false, target: () => 1 });
    await obj.kill();
    expect(() => obj.start()).toThrow(StoppedError);
  });

  it('stopAll() / killAll() reach every ThreadedObject of a registry', async () => {
    const { clock, delay } = virtualTime();
    const registry = new Registry();
    const objs = [1, 2, 3].map(
      () =>
        new ThreadedObject({
          clock,
          registry,
          periodMs: 100,
          target: () => delay(20),
          start: true,
        }),
    );
    await clock.advance(5);
    const stopping = ThreadedObject.stopAll({ registry, timeoutMs: 100 });
    await clock.advance(15);
    await expect(stopping).resolves.toBe(true);
    expect(objs.every((o) => o.state === 'stopped')).toBe(true);
    await ThreadedObject.killAll({ registry });
    expect(objs.every((o) => !o.isAlive())).toBe(true);
    expect(registry.size).toBe(0);
  });
});
