/**
 * WorkerProcess timing and bookkeeping in virtual time: the thread pool is
 * replaced by an in-process runner whose handlers wait on the VirtualClock,
 * so periods, timeouts and queue order are checked to the millisecond
 * without threads or sleeps.
 */
import {
  ConfigError,
  ExpiredError,
  KeyNotFoundError,
  OverrunError,
  StoppedError,
  TimeoutError,
} from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { type RequestInfo, WorkerProcess, type WorkerProcessOptions } from '../index.js';
import { PriorityQueue } from '../priorityQueue.js';
import { fixture, settled } from './helpers.js';
import { harness } from './virtualPool.js';

describe('PriorityQueue', () => {
  it('pops by priority, then first in first out, and skips removed items', () => {
    const q = new PriorityQueue<{
      priority: number;
      seq: number;
      inQueue: boolean;
      name: string;
    }>();
    const items = [
      ['a', 0],
      ['b', -1],
      ['c', 1],
      ['d', 0],
      ['e', 1],
      ['f', -1],
    ].map(([name, priority], seq) => ({
      name: name as string,
      priority: priority as number,
      seq,
      inQueue: false,
    }));
    for (const item of items) q.push(item);
    q.remove(items[3]!);
    expect(q.size).toBe(5);
    expect(q.drain().map((i) => i.name)).toEqual(['c', 'e', 'a', 'b', 'f']);
  });
});

describe('WorkerProcess in virtual time', () => {
  it('runs queued requests by priority with ties in order, and refuses beyond maxQueue', async () => {
    const { clock, pool, log } = harness({ maxQueue: 5 });
    pool.send('first', 'work', 10);
    pool.send('low', 'work', 10, { priority: 'low' });
    pool.send('n1', 'work', 10);
    pool.send('high', 'work', 10, { priority: 'high' });
    pool.send('n2', 'work', 10);
    pool.send('n3', 'work', 10);
    const refused = pool.send('n4', 'work', 10);
    await clock.advance(100);
    expect(log).toEqual(['first@0', 'high@10', 'n1@20', 'n2@30', 'n3@40', 'low@50']);
    const info = await settled(refused);
    expect(info.state).toBe('failed');
    expect(info.error).toBeInstanceOf(OverrunError);
    expect(info.error?.message).toMatch(/queue is full \(maxQueue 5\)/);
    await pool.kill();
  });

  it('measures timeoutMs from start, settles at once and terminates a thread that does not stop', async () => {
    const { clock, pool, runner, log } = harness({ abortGraceMs: 30 });
    const busy = pool.send('busy', 'work', 100);
    const stuck = pool.send('stuck', 'hang', undefined, { timeoutMs: 50 });
    const next = pool.send('next', 'work', 10);
    await clock.advance(149);
    expect(busy.state).toBe('completed');
    expect(stuck.state).toBe('running');
    await clock.advance(1);
    const info = stuck.info();
    expect(info).toMatchObject({ state: 'timed-out' });
    expect(info.startedAt! - info.queuedAt).toBe(100);
    expect(info.finishedAt! - info.startedAt!).toBe(50);
    expect(info.error).toBeInstanceOf(TimeoutError);
    expect((info.error as TimeoutError).timeoutMs).toBe(50);
    // The slot stays taken until the grace ends and the "thread" is terminated.
    await clock.advance(29);
    expect(next.state).toBe('queued');
    await clock.advance(1);
    expect(runner().terminated).toEqual([stuck.id]);
    expect(log).toContain('next@180');
    await clock.advance(10);
    expect(await next).toBe('next');
    await pool.kill();
  });

  it('bounds a command by its timeout, queue wait included, and waitCompleted by its own', async () => {
    const { clock, pool } = harness();
    const busy = pool.send('busy', 'work', 100);
    const cmd = pool.command('work', 5, { timeoutMs: 30 });
    const waiting = pool.waitCompleted([busy.id, cmd.id], { timeoutMs: 20 });
    const waitFailed = expect(waiting).rejects.toThrow(
      /waitCompleted timed out after 20 ms with 2 of 2/,
    );
    await clock.advance(20);
    await waitFailed;
    await clock.advance(10);
    const info = cmd.info();
    expect(info.state).toBe('timed-out');
    expect(info.error?.message).toMatch(
      /command \d+ \(target "work"\) timed out after 30 ms waiting for the work queued before it/,
    );
    const all = pool.waitCompleted([busy.id, cmd.id]);
    await clock.advance(70);
    expect((await all).map((i: RequestInfo) => i.state)).toEqual(['completed', 'timed-out']);
    await expect(pool.waitCompleted('nope')).rejects.toBeInstanceOf(KeyNotFoundError);
    await pool.kill();
  });

  it('refreshes added keys drift-free into an expiring cache, and drops removed keys', async () => {
    let fail = false;
    const { clock, pool, log } = harness(
      { maxThreads: 2 },
      {
        read: (_args, key) => {
          log.push(`${key}@${clock.now() % 100_000}`);
          if (fail) throw new Error('sensor offline');
          return new Promise((resolve) =>
            clock.setTimeout(() => resolve(clock.now() % 100_000), 10),
          );
        },
      },
    );
    const updates: unknown[] = [];
    pool.add('t', 'read', undefined, { periodMs: 100, callback: (e, v) => updates.push(e ?? v) });
    const watched: unknown[] = [];
    let watchEnded = false;
    pool
      .watch('t')
      .subscribe({ next: (e) => watched.push(e.value), complete: () => (watchEnded = true) });
    expect(() => pool.get('t')).toThrow(KeyNotFoundError);
    await clock.advance(1_010);
    expect(log.length).toBe(11);
    expect(updates.slice(0, 3)).toEqual([10, 110, 210]);
    expect(watched.slice(0, 4)).toEqual([undefined, 10, 110, 210]);
    expect(pool.get('t')).toBe(1_010 % 100_000);
    expect(pool.data.get('t')).toBe(pool.get('t'));
    expect([...pool.data.keys()]).toEqual(['t']);

    fail = true;
    await clock.advance(100);
    const entry = pool.entry('t');
    expect(entry.error?.message).toBe('sensor offline');
    expect(entry.stale).toBe(false);
    expect(pool.get('t')).toBe(1_010 % 100_000);
    await clock.advance(400);
    expect(() => pool.get('t')).toThrow(ExpiredError);
    expect(pool.get('t', { allowStale: true })).toBe(1_010 % 100_000);
    expect(pool.data.has('t')).toBe(false);

    const stats = pool.diagnostics().items?.find((i) => i.name === 'key:t');
    expect(stats?.stats).toMatchObject({ count: 16, errors: 5, skipped: 0, delay: 0 });
    expect(stats?.detail).toMatchObject({ kind: 'key', periodMs: 100, expireMs: 400, stale: true });

    expect(pool.remove('t')).toBe(true);
    expect(watchEnded).toBe(true);
    expect(() => pool.get('t')).toThrow(KeyNotFoundError);
    expect(pool.remove('t')).toBe(false);
    const before = log.length;
    await clock.advance(500);
    expect(log.length).toBe(before);
    await pool.kill();
  });

  it.each([
    ['skip', [0, 300, 600, 900], 6],
    ['queue', [0, 240, 480, 720, 960], 5],
    ['parallel', [0, 100, 200, 300, 400, 500, 600, 700, 800, 900], 0],
  ] as const)(
    'applies overrun %s to a key whose runs take longer than its period',
    async (overrun, starts, skipped) => {
      const { clock, pool, log } = harness({ maxThreads: 4 });
      pool.add('k', 'work', 240, { periodMs: 100, overrun });
      await clock.advance(990);
      expect(log).toEqual(starts.map((t) => `k@${t}`));
      const stats = pool.diagnostics().items?.find((i) => i.name === 'key:k')?.stats;
      expect(stats?.skipped).toBe(skipped);
      // The slot due at 500 waited for the run ending at 720.
      if (overrun === 'queue') expect(stats?.lateness.max).toBeCloseTo(220, 0);
      await pool.kill();
    },
  );

  it('starts keys only when started, pauses them, and runs them at once on resume', async () => {
    const { clock, pool, log } = harness({ start: false });
    pool.add('k', 'work', 1, { periodMs: 100 });
    const queued = pool.send('q', 'work', 1);
    await clock.advance(250);
    expect(log).toEqual([]);
    expect(queued.state).toBe('queued');
    pool.start();
    await clock.advance(150);
    expect(log).toEqual(['q@250', 'k@251', 'k@350']);
    expect(await pool.pause()).toBe(true);
    await clock.advance(1_000);
    expect(log.length).toBe(3);
    pool.resume();
    await clock.advance(0);
    expect(log).toEqual(['q@250', 'k@251', 'k@350', 'k@1400']);
    const closing = pool.close();
    await clock.advance(1);
    expect(await closing).toBe(true);
    expect(() => pool.add('k2', 'work', 1, { periodMs: 10 })).toThrow(StoppedError);
  });

  it('passes results of upstreams that finished before, and cancels or fails dependents with theirs', async () => {
    const { clock, pool } = harness(
      { maxThreads: 2 },
      { sum: (_a, _k, up) => (up as number[]).join('+') },
    );
    const a = pool.send('a', 'work', 10);
    await clock.advance(10);
    expect(a.state).toBe('completed');
    const b = pool.send('b', 'work', 20);
    const both = pool.send('c', 'sum', undefined, { after: [a.id, b.id] });
    expect(both.state).toBe('waiting');
    await clock.advance(20);
    expect(await both).toBe('a+b');

    const slow = pool.send('s', 'work', 50);
    const canceledDep = pool.send('d1', 'sum', undefined, { after: slow.id });
    const failing = pool.send('f', 'fail');
    const failedDep = pool.send('d2', 'sum', undefined, { after: [failing.id] });
    pool.cancel(slow.id);
    await clock.advance(1);
    expect(canceledDep.info()).toMatchObject({ state: 'canceled' });
    expect(failedDep.info()).toMatchObject({ state: 'failed' });
    expect(failedDep.info().error?.cause).toBe(failing.info().error);
    await pool.kill();
  });

  it('settles each request once however cancel, timeout, result and kill race', async () => {
    const { clock, pool } = harness({ maxThreads: 2, abortGraceMs: 0 });
    const calls = new Map<string, number>();
    const count = (id: string) => () => calls.set(id, (calls.get(id) ?? 0) + 1);
    const a = pool.send('a', 'work', 50, { timeoutMs: 50 });
    a.then(count(a.id), count(a.id));
    const b = pool.send('b', 'work', 10);
    b.then(count(b.id), count(b.id));
    pool.cancel(b.id);
    const c = pool.send('c', 'hang', undefined, { callback: count('c-callback') });
    await clock.advance(50);
    await pool.kill();
    await clock.advance(100);
    expect(a.state).toBe('timed-out');
    expect(b.state).toBe('canceled');
    expect(c.state).toBe('canceled');
    expect((await settled(c)).error).toBeInstanceOf(StoppedError);
    expect([...calls.values()]).toEqual([1, 1, 1]);
  });
});

describe('bad input', () => {
  const executor = fixture('basic');
  it.each<[string, unknown, RegExp]>([
    ['no options', undefined, /options are required/],
    ['no executor', {}, /options\.executor is required/],
    [
      'relative executor',
      { executor: './x.js' },
      /options\.executor must be an absolute path or a file: URL/,
    ],
    ['missing executor file', { executor: '/nope/x.js' }, /names a file that does not exist/],
    ['http executor', { executor: new URL('http://x/y.js') }, /must be a file: URL/],
    [
      'maxThreads 0',
      { executor, maxThreads: 0 },
      /options\.maxThreads must be an integer from 1 to 1024 \(got 0\)/,
    ],
    [
      'minThreads > max',
      { executor, maxThreads: 2, minThreads: 3 },
      /options\.minThreads must be an integer from 0 to 2/,
    ],
    [
      'timeout in seconds',
      { executor, timeout: 5 },
      /options\.timeout is not an option \(did you mean timeoutMs\?/,
    ],
    [
      'negative timeoutMs',
      { executor, timeoutMs: -1 },
      /options\.timeoutMs must be a finite number from 1/,
    ],
    [
      'NaN abortGraceMs',
      { executor, abortGraceMs: Number.NaN },
      /options\.abortGraceMs must be a finite number/,
    ],
    [
      'fractional maxQueue',
      { executor, maxQueue: 1.5 },
      /options\.maxQueue must be an integer >= 0/,
    ],
    [
      'bad resourceLimits',
      { executor, resourceLimits: { maxOldGenerationSizeMb: 0 } },
      /resourceLimits\.maxOldGenerationSizeMb/,
    ],
    [
      'bad execArgv',
      { executor, execArgv: '--inspect' },
      /options\.execArgv must be an array of strings/,
    ],
    ['bad start', { executor, start: 'yes' }, /options\.start must be a boolean/],
  ])('constructor: %s', (_name, options, message) => {
    const make = (): unknown => new WorkerProcess(options as WorkerProcessOptions);
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(message);
  });

  it.each<[string, (p: WorkerProcess) => unknown, RegExp]>([
    [
      'empty key',
      (p) => p.send('', 'work'),
      /WorkerProcess: key must be a non-empty string \(got ""\)/,
    ],
    [
      'target not a string',
      (p) => p.send('k', 42 as unknown as string),
      /target must be a non-empty string \(got 42\)/,
    ],
    [
      'callback not a function',
      (p) => p.send('k', 'work', 1, 'cb' as never),
      /send options must be an object/,
    ],
    [
      'unknown priority',
      (p) => p.send('k', 'work', 1, { priority: 'urgent' as 'high' }),
      /send options\.priority must be one of 'low', 'normal', 'high'/,
    ],
    [
      'infinite priority',
      (p) => p.send('k', 'work', 1, { priority: Number.POSITIVE_INFINITY }),
      /send options\.priority must be a finite number/,
    ],
    [
      'after not ids',
      (p) => p.send('k', 'work', 1, { after: [1 as unknown as string] }),
      /send options\.after\[0\] must be a non-empty string/,
    ],
    [
      'signal not a signal',
      (p) => p.send('k', 'work', 1, { signal: {} as AbortSignal }),
      /send options\.signal must be an AbortSignal/,
    ],
    [
      'timeout typo',
      (p) => p.send('k', 'work', 1, { timeout: 5 } as never),
      /did you mean timeoutMs\?/,
    ],
    [
      'add without period',
      (p) => p.add('k', 'work', 1, {} as never),
      /add options\.periodMs must be a finite number from 1/,
    ],
    [
      'add bad overrun',
      (p) => p.add('k', 'work', 1, { periodMs: 10, overrun: 'drop' as 'skip' }),
      /add options\.overrun must be one of 'skip', 'queue', 'parallel'/,
    ],
    [
      'command bad timeout',
      (p) => p.command('work', 1, { timeoutMs: -5 }),
      /command options\.timeoutMs must be/,
    ],
    [
      'bind missing file',
      (p) => p.bind('/nope/alt.js'),
      /bind executor names a file that does not exist/,
    ],
    ['stopGroup empty', (p) => p.stopGroup(''), /group must be a non-empty string/],
  ])('method: %s', async (_name, call, message) => {
    const { pool } = harness();
    expect(() => call(pool)).toThrow(ConfigError);
    expect(() => call(pool)).toThrow(message);
    await pool.kill();
  });
});
