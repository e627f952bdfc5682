import {
  AbortError,
  ConfigError,
  ExpiredError,
  KeyNotFoundError,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { type Entry, type ReadContext, ThreadDict } from '../index.js';
import { never, rel, T0, virtualTime } from './helpers.js';

/** A read returning a per-key counter, logging when each key was read. */
function counterRead(clock: { now(): number }) {
  const log: [string, number][] = [];
  const counts = new Map<string, number>();
  const read = (key: string): number => {
    log.push([key, clock.now()]);
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return n;
  };
  const timesOf = (key: string): number[] => rel(log.filter(([k]) => k === key).map(([, t]) => t));
  return { read, log, timesOf };
}

describe('ThreadDict: values', () => {
  it('polls appended keys every period and serves the cached value with get()', async () => {
    const { clock } = virtualTime();
    const { read, timesOf } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read,
      start: true,
    });
    dict.append('sys/tg/1/temperature').append('sys/tg/1/pressure', { periodMs: 250 });
    await clock.advance(0);
    expect(dict.get('sys/tg/1/temperature')).toBe(1);
    await clock.advance(500);
    expect(timesOf('sys/tg/1/temperature')).toEqual([0, 100, 200, 300, 400, 500]);
    expect(timesOf('sys/tg/1/pressure')).toEqual([0, 250, 500]);
    expect(dict.get('sys/tg/1/temperature')).toBe(6);
    expect(dict.keys().sort()).toEqual(['sys/tg/1/pressure', 'sys/tg/1/temperature']);
    expect(dict.size).toBe(2);
    expect(dict.has('sys/tg/1/pressure')).toBe(true);
    expect(dict.has('nope')).toBe(false);
    await dict.kill();
  });

  it('entry() describes value, sample time, expiry, staleness and status', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<string>({
      clock,
      registry: false,
      periodMs: 100,
      read: () => 'v',
      start: true,
    });
    dict.append('k');
    expect(dict.entry('k')).toEqual({
      key: 'k',
      value: undefined,
      hasValue: false,
      sampledAt: null,
      expiresAt: null,
      stale: true,
      error: undefined,
      status: 'pending',
    });
    await clock.advance(30);
    expect(dict.entry('k')).toEqual({
      key: 'k',
      value: 'v',
      hasValue: true,
      sampledAt: T0,
      expiresAt: T0 + 400,
      stale: false,
      error: undefined,
      status: 'ok',
    });
    await dict.kill();
  });

  it('get() throws KeyNotFoundError for unknown keys and ExpiredError with the stale value and its age', async () => {
    const { clock } = virtualTime();
    let fail = false;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      retry: false,
      read: () => {
        if (fail) throw new Error('device offline');
        return 42;
      },
    });
    dict.append('k');
    expect(() => dict.get('missing')).toThrow(KeyNotFoundError);
    const notStarted = (() => {
      try {
        dict.get('k');
      } catch (e) {
        return e;
      }
    })() as ExpiredError;
    expect(notStarted).toBeInstanceOf(ExpiredError);
    expect(notStarted.message).toMatch(/k has no value yet \(the dict is not started\)/);
    dict.start();
    await clock.advance(0);
    fail = true;
    await clock.advance(400);
    expect(dict.get('k')).toBe(42); // age 400 = expireMs: still fresh
    await clock.advance(1);
    let error: unknown;
    try {
      dict.get('k');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ExpiredError);
    const expired = error as ExpiredError<number>;
    expect(expired.value).toBe(42);
    expect(expired.ageMs).toBe(401);
    expect(expired.key).toBe('k');
    expect((expired.cause as Error).message).toBe('device offline');
    expect(dict.get('k', { allowStale: true })).toBe(42);
    await dict.kill();
  });

  it('records a history ring of historyDepth values and the deltas between records', async () => {
    const { clock } = virtualTime();
    const { read } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      historyDepth: 3,
      read,
      start: true,
    });
    dict.append('k');
    await clock.advance(450);
    expect(dict.history('k')).toEqual([
      { value: 3, sampledAt: T0 + 200 },
      { value: 4, sampledAt: T0 + 300 },
      { value: 5, sampledAt: T0 + 400 },
    ]);
    expect(dict.status('k').deltasMs).toEqual([100, 100]);
    const none = new ThreadDict<number>({
      clock,
      registry: false,
      historyDepth: 0,
      read,
      start: true,
    });
    none.append('k');
    await clock.advance(0);
    expect(none.history('k')).toEqual([]);
    await dict.kill();
    await none.kill();
  });

  it('set() calls write, caches its result and notifies watchers; without write it caches the value', async () => {
    const { clock, delay } = virtualTime();
    const writes: [string, number][] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      read: () => 0,
      write: async (key, value) => {
        writes.push([key, value]);
        await delay(5);
        return value * 10; // the device clamps / converts: its answer is cached
      },
    });
    const seen: (number | undefined)[] = [];
    const pending = dict.set('setpoint', 7);
    await clock.advance(5);
    await expect(pending).resolves.toBe(70);
    dict.watch('setpoint').subscribe((e) => seen.push(e.value));
    const again = dict.set('setpoint', 8);
    await clock.advance(5);
    await again;
    expect(writes).toEqual([
      ['setpoint', 7],
      ['setpoint', 8],
    ]);
    expect(dict.get('setpoint')).toBe(80);
    expect(seen).toEqual([70, 80]);
    // A key only set is not polled and never expires.
    await clock.advance(1_000_000);
    expect(dict.get('setpoint')).toBe(80);
    expect(dict.status('setpoint')).toMatchObject({
      polled: false,
      state: 'unpolled',
      expireMs: Number.POSITIVE_INFINITY,
    });
    const plain = new ThreadDict<number>({ clock, registry: false, read: () => 0 });
    await expect(plain.set('x', 3)).resolves.toBe(3);
    expect(plain.get('x')).toBe(3);
    await dict.kill();
    await plain.kill();
  });

  it('append(key, { value }) caches an initial value at once', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<number>({ clock, registry: false, read: () => 1 });
    dict.append('k', { value: 99 });
    expect(dict.get('k')).toBe(99);
    await dict.kill();
  });
});

describe('ThreadDict: read()', () => {
  it('shares one underlying read between concurrent read() calls of a key', async () => {
    const { clock, delay } = virtualTime();
    let calls = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      read: async () => {
        calls++;
        await delay(50);
        return calls;
      },
    });
    dict.append('k');
    const reads = [
      dict.read('k'),
      dict.read('k', { source: 'device' }),
      dict.read('k', { source: 'device' }),
    ];
    await clock.advance(50);
    await expect(Promise.all(reads)).resolves.toEqual([1, 1, 1]);
    expect(calls).toBe(1);
    await dict.kill();
  });

  it("source 'cache-device' returns a fresh cached value, 'device' always reads, 'cache' is get()", async () => {
    const { clock } = virtualTime();
    let calls = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: () => ++calls,
    });
    dict.append('k');
    await expect(dict.read('k')).resolves.toBe(1);
    await expect(dict.read('k')).resolves.toBe(1);
    await expect(dict.read('k', { source: 'device' })).resolves.toBe(2);
    await expect(dict.read('k', { source: 'cache' })).resolves.toBe(2);
    await clock.advance(401);
    await expect(dict.read('k', { source: 'cache' })).rejects.toBeInstanceOf(ExpiredError);
    await expect(dict.read('k', { source: 'cache', allowStale: true })).resolves.toBe(2);
    await expect(dict.read('k')).resolves.toBe(3);
    await expect(dict.read('nope')).rejects.toBeInstanceOf(KeyNotFoundError);
    await dict.kill();
    await expect(dict.read('k', { source: 'device' })).rejects.toBeInstanceOf(StoppedError);
  });

  it('hands read() a context with the previous entry, the slot time and a lazily made AbortSignal', async () => {
    const { clock } = virtualTime();
    const contexts: { previous: Entry<number>; dueAt: number }[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      timeoutMs: 30,
      retry: false,
      read: (_key, ctx: ReadContext<number>) => {
        contexts.push({ previous: ctx.previous, dueAt: ctx.dueAt });
        if (contexts.length < 3) return contexts.length;
        return new Promise<number>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        });
      },
      start: true,
    });
    dict.append('k');
    await clock.advance(230);
    expect(contexts.map((c) => c.dueAt - T0)).toEqual([0, 100, 200]);
    expect(contexts[1]!.previous).toMatchObject({ value: 1, sampledAt: T0 });
    expect(dict.entry('k').error).toBeInstanceOf(TimeoutError);
    expect(dict.entry('k').value).toBe(2);
    await dict.kill();
  });
});

describe('ThreadDict: watch() and changes$', () => {
  it('emits the current entry first, then only real changes', async () => {
    const { clock } = virtualTime();
    const values = [1, 1, 2, 2, 2, 3, 3];
    let i = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: () => values[Math.min(i++, values.length - 1)]!,
    });
    dict.append('k', { value: 0 });
    const seen: (number | undefined)[] = [];
    const all: string[] = [];
    dict.watch('k').subscribe((e) => seen.push(e.value));
    dict.changes$.subscribe((e) => all.push(`${e.key}=${e.value}`));
    dict.start();
    await clock.advance(700);
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(all).toEqual(['k=1', 'k=2', 'k=3']);
    await dict.kill();
  });

  it('uses equals to decide what is a change, and reports a key starting and stopping failing', async () => {
    const { clock } = virtualTime();
    const script: (number | Error)[] = [
      1.01,
      1.02,
      new Error('glitch'),
      new Error('glitch'),
      1.03,
      2.5,
    ];
    let i = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      retry: false,
      equals: (a, b) => Math.abs(a - b) < 0.1,
      read: () => {
        const step = script[Math.min(i++, script.length - 1)]!;
        if (step instanceof Error) throw step;
        return step;
      },
    });
    dict.append('k');
    const seen: string[] = [];
    dict.watch('k').subscribe((e) => seen.push(`${e.status}:${e.value}`));
    dict.start();
    await clock.advance(500);
    expect(seen).toEqual(['pending:undefined', 'ok:1.01', 'error:1.02', 'ok:1.03', 'ok:2.5']);
    await dict.kill();
  });

  it('errors a watch of an unknown key with KeyNotFoundError, completes it on remove()', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<number>({ clock, registry: false, read: () => 1 });
    let error: unknown;
    dict.watch('nope').subscribe({ error: (e) => (error = e) });
    expect(error).toBeInstanceOf(KeyNotFoundError);
    dict.append('k', { value: 1 });
    let completed = false;
    dict.watch('k').subscribe({ complete: () => (completed = true) });
    dict.remove('k');
    expect(completed).toBe(true);
    await dict.kill();
  });

  it('completes watch() and changes$ streams on kill()', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<number>({ clock, registry: false, read: () => 1, start: true });
    dict.append('a').append('b');
    let completed = 0;
    dict.watch('a').subscribe({ complete: () => completed++ });
    dict.watch('b').subscribe({ complete: () => completed++ });
    dict.changes$.subscribe({ complete: () => completed++ });
    await clock.advance(10);
    await dict.kill();
    expect(completed).toBe(3);
    // Watching after kill gives the last entry and completes.
    const after: Entry<number>[] = [];
    let done = false;
    dict.watch('a').subscribe({ next: (e) => after.push(e), complete: () => (done = true) });
    expect(after).toHaveLength(1);
    expect(done).toBe(true);
  });
});

describe('ThreadDict: scheduling', () => {
  it('spreads a burst of appended keys over the period, about 2000 keys per phase, each read within one period', async () => {
    const { clock } = virtualTime();
    const { read, log } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read,
      start: true,
    });
    for (let i = 0; i < 10_000; i++) dict.append(`k${i}`);
    await clock.advance(99);
    expect(new Set(log.map(([k]) => k)).size).toBe(10_000);
    const phaseOf = new Map<string, number>(log.map(([k, t]) => [k, t - T0]));
    // 5 phases, 20 ms apart; consecutive keys share one: k0..k1999 at 0, k2000..k3999 at 20, ...
    for (let i = 0; i < 10_000; i++) expect(phaseOf.get(`k${i}`)).toBe(Math.floor(i / 2000) * 20);
    await clock.advance(1);
    // A small burst reads at once, all together; so does a key appended on its own.
    for (let i = 0; i < 300; i++) dict.append(`small${i}`);
    dict.append('late', { periodMs: 1000 });
    await clock.advance(0);
    expect(log.filter(([k]) => k.startsWith('small')).every(([, t]) => t === T0 + 100)).toBe(true);
    expect(log.at(-1)).toEqual(['late', T0 + 100]);
    await dict.kill();
  });

  it('keysPerPhase sets the phase size; at most one phase per ms of the period', async () => {
    const { clock } = virtualTime();
    const { read, log } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      keysPerPhase: 300,
      read,
      start: true,
    });
    for (let i = 0; i < 1200; i++) dict.append(`k${i}`);
    // 2000 keys at 5 ms would need 7 phases of 300: capped at 5 phases (of 400 keys) 1 ms apart.
    for (let i = 0; i < 2000; i++) dict.append(`s${i}`, { periodMs: 5 });
    await clock.advance(99);
    const phaseOf = new Map<string, number>();
    for (const [k, t] of log) if (!phaseOf.has(k)) phaseOf.set(k, t - T0);
    // 4 phases of 300 keys, 25 ms apart.
    for (let i = 0; i < 1200; i++) expect(phaseOf.get(`k${i}`)).toBe(Math.floor(i / 300) * 25);
    for (let i = 0; i < 2000; i++) expect(phaseOf.get(`s${i}`)).toBe(Math.floor(i / 400));
    await dict.kill();
    expect(() => new ThreadDict({ registry: false, read: () => 1, keysPerPhase: 0 })).toThrow(
      ConfigError,
    );
    expect(() => new ThreadDict({ registry: false, read: () => 1, keysPerPhase: 1.5 })).toThrow(
      /options\.keysPerPhase/,
    );
  });

  it('bounds reads in flight with concurrency; waiting keys read in FIFO order as slots free', async () => {
    const { clock, delay } = virtualTime();
    let inFlight = 0;
    let maxInFlight = 0;
    const started: string[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 1000,
      concurrency: 2,
      read: async (key) => {
        started.push(`${key}@${clock.now() - T0}`);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        await delay(10);
        inFlight--;
        return 1;
      },
      start: true,
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) dict.append(k);
    await clock.advance(30);
    expect(maxInFlight).toBe(2);
    expect(started).toEqual(['a@0', 'b@0', 'c@10', 'd@10', 'e@20']);
    expect(dict.stats('e').lateness.max).toBe(20);
    await dict.kill();
  });

  it('backs off failing keys (initialMs, factor, maxMs) and returns to the period after a success', async () => {
    const { clock } = virtualTime();
    const times: number[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      retry: { initialMs: 50, factor: 2, maxMs: 300, jitter: 0 },
      read: () => {
        times.push(clock.now() - T0);
        if (times.length >= 2 && times.length <= 6) throw new Error('down');
        return times.length;
      },
      start: true,
    });
    dict.append('k');
    await clock.advance(300);
    // Backing off (next try at 450) still reports the key's period, not the one-shot retry timer's.
    expect(dict.status('k')).toMatchObject({ periodMs: 100 });
    expect(dict.stats('k').next).toBe(T0 + 450);
    await clock.advance(1200);
    // ok@0, fail@100 (+50) 150 (+100) 250 (+200) 450 (+300) 750 (+300) ok@1050, then the grid: 1100, 1200 ...
    expect(times).toEqual([0, 100, 150, 250, 450, 750, 1050, 1100, 1200, 1300, 1400, 1500]);
    expect(dict.stats('k').errors).toBe(5);
    await dict.kill();
  });

  it('times a hung read out, aborting its signal with a TimeoutError, and reads again at the next slot', async () => {
    const { clock } = virtualTime();
    const reasons: unknown[] = [];
    let calls = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      timeoutMs: 50,
      retry: false,
      read: (_key, ctx) => {
        calls++;
        ctx.signal.addEventListener('abort', () => reasons.push(ctx.signal.reason));
        return never<number>();
      },
      start: true,
    });
    dict.append('k');
    await clock.advance(260);
    expect(calls).toBe(3);
    expect(reasons).toHaveLength(3);
    expect(reasons[0]).toBeInstanceOf(TimeoutError);
    expect(dict.stats('k')).toMatchObject({ count: 3, errors: 3, skipped: 0 });
    await dict.kill();
  });

  it('keeps at most maxEntries keys: the least recently used key is removed and no longer polled', async () => {
    const { clock } = virtualTime();
    const { read, timesOf } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      maxEntries: 2,
      read,
      start: true,
    });
    dict.append('a').append('b');
    await clock.advance(0);
    dict.get('a'); // a is now more recent than b
    dict.append('c');
    expect(dict.has('b')).toBe(false);
    expect(dict.keys().sort()).toEqual(['a', 'c']);
    await clock.advance(300);
    expect(timesOf('b')).toEqual([0]);
    expect(timesOf('a')).toEqual([0, 100, 200, 300]);
    await dict.kill();
  });

  it('threaded: false reads on access, when the cached value is older than the period; no polling', async () => {
    const { clock } = virtualTime();
    const { read, log } = counterRead(clock);
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      threaded: false,
      read,
      start: true,
    });
    dict.append('k');
    await clock.advance(1000);
    expect(log).toHaveLength(0);
    expect(dict.get('k')).toBe(1);
    expect(dict.get('k')).toBe(1);
    await clock.advance(100);
    expect(dict.get('k')).toBe(1);
    await clock.advance(1);
    expect(dict.get('k')).toBe(2);
    expect(log).toHaveLength(2);
    expect(dict.status('k').state).toBe('unpolled');
    await dict.kill();
  });
});

describe('ThreadDict: lifecycle and diagnostics', () => {
  it('stop() lets the read in flight finish (true), or times out (false); start() after stop() reads at once', async () => {
    const { clock, delay } = virtualTime();
    const times: number[] = [];
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: async () => {
        times.push(clock.now() - T0);
        await delay(40);
        return 1;
      },
      start: true,
    });
    dict.append('k');
    await clock.advance(10);
    const stopping = dict.stop({ timeoutMs: 100 });
    await clock.advance(30);
    await expect(stopping).resolves.toBe(true);
    await clock.advance(500);
    expect(times).toEqual([0]);
    dict.start();
    await clock.advance(0);
    expect(times).toEqual([0, 540]);
    const late = dict.stop({ timeoutMs: 10 });
    await clock.advance(10);
    await expect(late).resolves.toBe(false);
    await dict.kill();
  });

  it('reports stats of all keys together and per key, and diagnostics with per-key detail', async () => {
    const { clock } = virtualTime();
    let n = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      retry: false,
      name: 'sensors',
      read: (key) => {
        if (key === 'bad') throw new Error('bad sensor');
        return ++n;
      },
      start: true,
    });
    dict.append('good').append('bad');
    await clock.advance(200);
    expect(dict.stats()).toMatchObject({
      count: 6,
      errors: 3,
      started: T0,
      lastError: { message: 'bad sensor' },
    });
    expect(dict.stats().lateness.p99).toBe(0);
    expect(dict.stats('good')).toMatchObject({
      count: 3,
      errors: 0,
      next: T0 + 300,
      last: T0 + 200,
    });
    expect(dict.stats('bad')).toMatchObject({
      count: 3,
      errors: 3,
      lastError: { name: 'Error', at: T0 + 200 },
    });
    expect(dict.status('bad')).toMatchObject({
      key: 'bad',
      state: 'idle',
      periodMs: 100,
      expireMs: 400,
      timeoutMs: 400,
      consecutiveErrors: 3,
      sampledAt: null,
    });
    const d = dict.diagnostics();
    expect(d).toMatchObject({
      kind: 'ThreadDict',
      name: 'sensors',
      state: 'running',
      detail: { size: 2 },
    });
    expect(d.items?.map((i) => i.name).sort()).toEqual(['bad', 'good']);
    // JSON-safe: a round trip through JSON loses nothing
    expect(JSON.parse(JSON.stringify(d))).toEqual(d);
    await dict.kill();
  });

  it('remove() aborts the read in flight and rejects its waiters with AbortError', async () => {
    const { clock } = virtualTime();
    let signal: AbortSignal | undefined;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      read: (_key, ctx) => {
        signal = ctx.signal;
        return never<number>();
      },
    });
    dict.append('k');
    const pending = dict.read('k');
    expect(dict.remove('k')).toBe(true);
    await expect(pending).rejects.toBeInstanceOf(AbortError);
    expect(signal?.aborted).toBe(true);
    expect(dict.remove('k')).toBe(false);
    await dict.kill();
  });
});

describe('ThreadDict: read contexts and non-threaded async reads', () => {
  it('gives each read that used its signal a fresh one (no listeners piling up on a reused signal)', async () => {
    const { clock, delay } = virtualTime();
    const signals = new Set<AbortSignal>();
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: async (_key, ctx) => {
        signals.add(ctx.signal);
        ctx.signal.addEventListener('abort', () => undefined);
        await delay(10);
        return 1;
      },
      start: true,
    });
    dict.append('k');
    await clock.advance(1000);
    expect(signals.size).toBe(11);
    expect([...signals].every((s) => !s.aborted)).toBe(true);
    await dict.kill();
  });

  it('threaded: false with an async read: get() starts the read, later calls get its value', async () => {
    const { clock, delay } = virtualTime();
    let calls = 0;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      threaded: false,
      read: async () => {
        calls++;
        await delay(5);
        return calls;
      },
    });
    dict.append('k');
    expect(() => dict.get('k')).toThrow(ExpiredError);
    expect(() => dict.get('k')).toThrow(ExpiredError); // shares the read in flight
    await clock.advance(5);
    expect(dict.get('k')).toBe(1);
    expect(calls).toBe(1);
    await expect(dict.read('k')).resolves.toBe(1);
    await dict.kill();
  });

  it('joins the global registry unless told otherwise, and leaves it on kill()', async () => {
    const { globalRegistry } = await import('@tickwork/core');
    const dict = new ThreadDict<number>({ read: () => 1, name: 'registry-check' });
    expect(globalRegistry.list('ThreadDict')).toContain(dict);
    await dict.kill();
    expect(globalRegistry.list('ThreadDict')).not.toContain(dict);
  });
});

describe('ThreadDict: reads racing writes', () => {
  it('does not let a read that started before a completed set() overwrite the written value', async () => {
    const { clock, delay } = virtualTime();
    let device = 1;
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: async () => {
        const sampled = device; // what the device said when the read began
        await delay(50);
        return sampled;
      },
      write: (_key, value) => {
        device = value;
        return value;
      },
      start: true,
    });
    dict.append('setpoint');
    await clock.advance(60);
    expect(dict.get('setpoint')).toBe(1);
    await clock.advance(50); // the read of slot 100 is in flight, holding the old value
    await dict.set('setpoint', 7);
    await clock.advance(40); // it completes at 150 with 1: not stored
    expect(dict.get('setpoint')).toBe(7);
    await clock.advance(100); // the read of slot 200 sees the new value
    expect(dict.get('setpoint')).toBe(7);
    expect(dict.history('setpoint').map((r) => r.value)).toEqual([1, 7, 7]);
    await dict.kill();
  });
});

describe('ThreadDict: dict-wide diagnostics', () => {
  it('reports the busiest key as the dict usage and read time over wall time as readLoad', async () => {
    const { clock } = virtualTime();
    const readMs: Record<string, number> = { slow: 50, fast: 10 };
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 100,
      read: (key) => new Promise((resolve) => clock.setTimeout(() => resolve(1), readMs[key]!)),
      start: true,
    });
    dict.append('slow').append('fast');
    await clock.advance(1_000);
    expect(dict.stats('slow').usage).toBeCloseTo(0.5);
    expect(dict.stats('fast').usage).toBeCloseTo(0.1);
    expect(dict.stats().usage).toBeCloseTo(0.5);
    const { detail } = dict.diagnostics();
    expect(detail?.['defaultPeriodMs']).toBe(100);
    expect(detail).not.toHaveProperty('periodMs'); // keys have their own periods
    expect(detail?.['readLoad']).toBeCloseTo(0.6, 1); // 60 ms of reads every 100 ms
    await dict.kill();
  });
});

describe('ThreadDict: timing of synchronous reads', () => {
  it('times reads that run back to back in one wake from the end of the previous one', async () => {
    const { clock: inner } = virtualTime();
    let busy = 0; // time spent inside reads, which the virtual clock cannot advance by itself
    const clock = {
      now: () => inner.now() + busy,
      setTimeout: (cb: () => void, ms: number) => inner.setTimeout(cb, ms),
      clearTimeout: (h: unknown) => inner.clearTimeout(h),
    };
    const dict = new ThreadDict<number>({
      clock,
      registry: false,
      periodMs: 1_000,
      read: () => {
        busy += 5;
        return 1;
      },
    });
    dict.append('a').append('b').append('c');
    dict.start(); // one burst: the three keys fall due together and read in one turn
    await inner.advance(0);
    const stats = ['a', 'b', 'c'].map((k) => dict.stats(k));
    expect(stats.map((s) => s.duration.max)).toEqual([5, 5, 5]);
    expect(stats.map((s) => s.delay)).toEqual([0, 5, 10]);
    await dict.kill();
  });
});
