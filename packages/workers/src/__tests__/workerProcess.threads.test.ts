/**
 * WorkerProcess on real worker threads, with the tiny executors in
 * ./fixtures. Few tests, each covering one contract end to end. Nothing
 * sleeps: handlers that must wait block on shared memory or on their abort
 * signal, and the tests wait for real events.
 */
import {
  AbortError,
  ConfigError,
  globalRegistry,
  KeyNotFoundError,
  StoppedError,
  TimeoutError,
  WorkerCrashedError,
} from '@tickwork/core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type RequestHandle,
  WorkerProcess,
  type WorkerProcessEvent,
  type WorkerProcessOptions,
} from '../index.js';
import type { handlers } from './fixtures/basic.js';
import { fixture, gate, settled } from './helpers.js';

type Basic = typeof handlers;
const pools: WorkerProcess<Basic>[] = [];

function pool(options: Partial<WorkerProcessOptions> = {}): WorkerProcess<Basic> {
  const p = new WorkerProcess<Basic>({ executor: fixture('basic'), registry: false, ...options });
  pools.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.kill()));
});

describe('WorkerProcess on worker threads', () => {
  it('runs handlers with their context and init args, and errors cross threads intact', async () => {
    const p = pool({ maxThreads: 2, initArgs: { site: 'lab' } });
    expect(await p.send('k', 'add', { a: 1, b: 2 })).toBe(3);
    expect(await p.send('k', 'addAsync', { a: 2, b: 3 })).toBe(5);
    expect(await p.send('k', 'initArgs')).toEqual({ site: 'lab' });
    const h = p.send('sys/tg/1', 'context');
    expect(await h).toEqual({ id: h.id, key: 'sys/tg/1', target: 'context', upstream: [] });
    const info = h.info();
    expect(info.state).toBe('completed');
    expect(info.startedAt).toBeGreaterThanOrEqual(info.queuedAt);
    expect(info.finishedAt).toBeGreaterThanOrEqual(info.startedAt!);

    const callbacks: unknown[][] = [];
    const failing = p.send('k', 'fail', { device: 'psu/3' }, (...a) => callbacks.push(a));
    const error = (await settled(failing)).error as Error & Record<string, unknown>;
    expect(callbacks).toEqual([[error]]);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DeviceError');
    expect(error.message).toBe('device psu/3 failed');
    expect(error.stack).toContain('fixtures/basic.ts');
    expect(error['code']).toBe('EDEVICE');
    expect(error['attempts']).toBe(3);
    expect(error['device']).toBe('psu/3');
    expect(error.cause).toBeInstanceOf(RangeError);
    expect((error.cause as Error).message).toBe('reading out of range');

    const core = (await settled(p.send('k', 'failCore'))).error;
    expect(core).toBeInstanceOf(TimeoutError);
    expect((core as TimeoutError).timeoutMs).toBe(42);

    const unknown = (await settled(p.send('k', 'nope' as 'echo'))).error;
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown?.message).toMatch(/unknown target "nope"; the executor defines: echo, add/);

    const badArgs = await settled(p.send('k', 'echo', { f: () => 1 }));
    expect(badArgs.state).toBe('failed');
    expect(badArgs.error).toBeInstanceOf(ConfigError);
    expect(badArgs.error?.message).toMatch(/args cannot be sent to a worker thread/);
  });

  it('honours priority under load: low, low, normal, high, high run as high, high, normal, low, low', async () => {
    const p = pool({ maxThreads: 1 });
    const { cell, open } = gate();
    const order: string[] = [];
    const blocker = p.send('k', 'block', cell);
    const sends = (
      [
        ['low1', 'low'],
        ['low2', 'low'],
        ['normal', 'normal'],
        ['high1', 'high'],
        ['high2', 'high'],
        ['urgent', 5],
      ] as const
    ).map(([label, priority]) =>
      p.send('k', 'echo', label, { priority, callback: (_e, r) => order.push(r as string) }),
    );
    expect(p.queued).toBe(6);
    open();
    expect(await blocker).toBe('released');
    await p.waitCompleted(sends.map((s) => s.id));
    expect(order).toEqual(['urgent', 'high1', 'high2', 'normal', 'low1', 'low2']);
  });

  it('cancels and times out running requests; a thread that ignores it is replaced', async () => {
    const p = pool({ maxThreads: 2, abortGraceMs: 500 });
    const events: WorkerProcessEvent[] = [];
    p.events$.subscribe((e) => events.push(e));

    // Cooperative: the handler sees ctx.signal and stops; the thread survives.
    const waiting = p.send('k', 'waitAbort');
    await p.waitCompleted(p.send('k', 'echo', 'warm').id);
    expect(p.cancel(waiting.id)).toBe(true);
    expect(p.cancel(waiting.id)).toBe(false);
    const canceled = await settled(waiting);
    expect(canceled.state).toBe('canceled');
    expect(canceled.error).toBeInstanceOf(AbortError);

    // Async handler that ignores the signal: the entry lets go of it, no termination.
    const ignoring = p.send('k', 'ignoreAbort', undefined, { timeoutMs: 30 });
    expect((await settled(ignoring)).error).toBeInstanceOf(TimeoutError);
    const cooperative = await settled(p.send('k', 'spinCooperative', undefined, { timeoutMs: 30 }));
    expect(cooperative.state).toBe('timed-out');
    expect(cooperative.error?.message).toMatch(/timed out after 30 ms/);
    expect(await p.send('k', 'echo', 'after cooperative')).toBe('after cooperative');
    expect(p.diagnostics().detail?.['terminations']).toBe(0);

    // A sync loop cannot notice: timed out at once, thread terminated after the grace.
    const hung = await settled(p.send('k', 'spin', undefined, { timeoutMs: 50 }));
    expect(hung.state).toBe('timed-out');
    expect(hung.error).toBeInstanceOf(TimeoutError);
    expect(hung.finishedAt! - hung.startedAt!).toBeGreaterThanOrEqual(50);
    const replaced = await new Promise<WorkerProcessEvent>((resolve) => {
      const found = events.find((e) => e.type === 'thread-replaced');
      if (found !== undefined) resolve(found);
      else p.events$.subscribe((e) => e.type === 'thread-replaced' && resolve(e));
    });
    expect(replaced).toMatchObject({ type: 'thread-replaced', reason: 'terminated', id: hung.id });
    expect(await p.send('k', 'echo', 'still serving')).toBe('still serving');

    // An already-aborted signal cancels before anything runs, without a sync callback.
    let called = false;
    const pre = p.send('k', 'echo', 1, {
      signal: AbortSignal.abort('nope'),
      callback: () => (called = true),
    });
    expect(called).toBe(false);
    expect((await settled(pre)).error).toBeInstanceOf(AbortError);
  });

  it('fails a request whose thread crashes, exits or runs out of memory, and replaces the thread', async () => {
    const p = pool({ maxThreads: 1 });
    const exited = (await settled(p.send('k', 'exit', 7))).error as WorkerCrashedError;
    expect(exited).toBeInstanceOf(WorkerCrashedError);
    expect(exited.exitCode).toBe(7);
    expect(await p.send('k', 'echo', 'a')).toBe('a');

    const crashed = (await settled(p.send('k', 'crash'))).error as WorkerCrashedError;
    expect(crashed).toBeInstanceOf(WorkerCrashedError);
    expect((crashed.cause as Error).message).toBe('boom at top level');

    const uncloneable = (await settled(p.send('k', 'uncloneable'))).error;
    expect(uncloneable).toBeInstanceOf(WorkerCrashedError);
    expect(uncloneable?.message).toMatch(/cannot be structured-cloned/);

    expect(await p.send('k', 'echo', 'b')).toBe('b');
    const d = p.diagnostics().detail!;
    expect(d['crashes']).toBe(3);
    expect(d['failed']).toBe(3);

    const limited = pool({ maxThreads: 1, resourceLimits: { maxOldGenerationSizeMb: 64 } });
    const oom = (await settled(limited.send('k', 'oom'))).error as WorkerCrashedError;
    expect(oom).toBeInstanceOf(WorkerCrashedError);
    expect((oom.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    expect(await limited.send('k', 'echo', 'c')).toBe('c');

    const broken = new WorkerProcess({
      executor: fixture('broken'),
      maxThreads: 1,
      registry: false,
    });
    try {
      const loadFailure = (await settled(broken.send('k', 'echo', 1))).error as WorkerCrashedError;
      expect(loadFailure).toBeInstanceOf(WorkerCrashedError);
      expect(loadFailure.message).toMatch(/executor did not load/);
      expect((loadFailure.cause as Error).message).toBe('broken executor');
    } finally {
      await broken.kill();
    }
  });

  it('passes upstream results, coalesces duplicates, stops groups, orders commands and reports progress', async () => {
    const p = pool({ maxThreads: 1 });
    const { cell, open } = gate();
    const blocker = p.send('k', 'block', cell, { group: 'g' });

    const a = p.send('k', 'add', { a: 1, b: 1 });
    const b = p.send('k', 'add', { a: 2, b: 2 });
    const dependent = p.send('k', 'context', undefined, { after: [a.id, b.id] });
    const failing = p.send('k', 'fail', { device: 'x' });
    const orphan = p.send('k', 'echo', 1, { after: failing.id });
    const missing = p.send('k', 'echo', 1, { after: 'no-such-id' });

    const first = p.send('dev/1', 'echo', 'same', { dedupe: true });
    const second = p.send('dev/1', 'echo', 'same', { dedupe: true });
    const different = p.send('dev/1', 'echo', 'other', { dedupe: true });

    const grouped = [1, 2, 3].map((i) => p.send('k', 'echo', i, { group: 'g' }));
    const finished: string[] = [];
    p.events$.subscribe((e) => e.type === 'group-finished' && finished.push(e.group));

    const progress: unknown[] = [];
    const reported = p.send('k', 'progress', 3, { onProgress: (v) => progress.push(v) });
    const earlier = [
      blocker,
      a,
      b,
      dependent,
      failing,
      orphan,
      missing,
      first,
      second,
      different,
      ...grouped,
      reported,
    ];
    const command = p.command('echo', 'cmd', { timeoutMs: 5_000 });

    expect(command.state).toBe('waiting');
    expect(p.stopGroup('g')).toBe(4);
    expect(finished).toEqual(['g']);
    open();

    expect(await dependent).toMatchObject({ upstream: [2, 4] });
    const orphaned = await settled(orphan);
    expect(orphaned.state).toBe('failed');
    expect(orphaned.error).toBeInstanceOf(AbortError);
    expect(orphaned.error?.message).toMatch(
      new RegExp(`upstream request ${failing.id} .* ended failed`),
    );
    expect((await settled(missing)).error).toBeInstanceOf(KeyNotFoundError);

    expect([await first, await second, await different]).toEqual(['same', 'same', 'other']);
    expect(second.id).not.toBe(first.id);
    expect(p.diagnostics().detail?.['coalesced']).toBe(1);

    for (const g of grouped) expect((await settled(g)).state).toBe('canceled');
    expect(await reported).toBe(3);
    expect(progress).toEqual([1, 2, 3]);

    // The command ran after everything sent before it had settled...
    expect(await command).toBe('cmd');
    const cmd = command.info();
    for (const h of earlier) expect(cmd.startedAt).toBeGreaterThanOrEqual(h.info().finishedAt!);
    // ...and ahead of what was queued after it.
    const next = gate();
    const order: string[] = [];
    const record = (_e: Error | null, r?: unknown): number => order.push(String(r));
    p.send('k', 'block', next.cell, record);
    p.send('k', 'echo', 'x1', record);
    p.send('k', 'echo', 'x2', record);
    const nextCommand = p.command('echo', 'command', { callback: record });
    const y1 = p.send('k', 'echo', 'y1', record);
    next.open();
    await y1;
    await nextCommand;
    expect(order).toEqual(['released', 'x1', 'x2', 'command', 'y1']);
    expect(blocker.state).toBe('canceled');
  });

  it('binds a new executor without losing queued requests; pause, close and kill settle everything', async () => {
    const p = pool({ maxThreads: 1, registry: globalRegistry, name: 'bind-test' });
    expect(globalRegistry.list('WorkerProcess')).toContain(p);
    const { cell, open } = gate();
    const blocker = p.send('k', 'block', cell);
    const queued = p.send('k', 'echo', 'x');
    const bound = p.bind(fixture('alt'), 'alt:');
    open();
    expect(await blocker).toBe('released');
    expect(await queued).toBe('alt:x');
    await bound;

    // pause: acknowledged once the running request finished; queued ones wait.
    const second = gate();
    const running = p.send('k', 'block', second.cell);
    const waiting = p.send('k', 'echo', 'y');
    let paused = false;
    const pausing = p.pause().then((ok) => (paused = ok));
    await Promise.resolve();
    expect(paused).toBe(false);
    second.open();
    expect(await pausing).toBe(true);
    expect(running.state).toBe('completed');
    expect(waiting.state).toBe('queued');
    p.resume();
    expect(await waiting).toBe('alt:y');

    const diag = p.diagnostics();
    expect(diag).toMatchObject({ kind: 'WorkerProcess', name: 'bind-test', state: 'running' });
    const echo = diag.items?.find((i) => i.name === 'target:echo');
    // Counters restart with each start(), and resume() is one.
    expect(echo?.detail).toMatchObject({ kind: 'target', completed: 1, queued: 0 });
    expect(echo?.stats.duration.count).toBe(1);

    // kill: everything pending settles once, with StoppedError.
    const third = gate();
    const pending: RequestHandle<unknown>[] = [
      p.send('k', 'block', third.cell),
      p.send('k', 'echo', 'z'),
    ];
    await p.kill();
    for (const h of pending) {
      const info = await settled(h);
      expect(info.state).toBe('canceled');
      expect(info.error).toBeInstanceOf(StoppedError);
    }
    expect((await settled(p.send('k', 'echo', 'after'))).error).toBeInstanceOf(StoppedError);
    expect(globalRegistry.list('WorkerProcess')).not.toContain(p);
    third.open();
  });

  it('close drains queued and running work, then ends', async () => {
    const p = pool({ maxThreads: 2 });
    const results = Array.from({ length: 20 }, (_, i) => p.send('k', 'addAsync', { a: i, b: 1 }));
    expect(await p.close()).toBe(true);
    expect(await Promise.all(results)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(p.isAlive()).toBe(false);
  });
});

/** Deterministic pseudo-random numbers in [0, 1), so a failure can be replayed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'ok' | 'throw' | 'exit' | 'hang' | 'cancel' | 'signal';

describe('fault matrix', () => {
  it('settles 10,000 mixed requests exactly once through throws, exits, hangs, cancels and a mid-run kill', async () => {
    const N = 10_000;
    const KILL_AFTER = 7_000;
    const random = mulberry32(0x7ac4);
    const p = pool({ maxThreads: 2, abortGraceMs: 10 });
    const calls = new Uint8Array(N);
    const kinds: Kind[] = [];
    const handles: RequestHandle<unknown>[] = [];
    const cancelable = new Set<string>();
    const controllers = new Map<number, AbortController>();
    let settledCount = 0;
    let events = 0;
    let killing: Promise<void> | undefined;
    const allSettled = new Promise<void>((resolve) => {
      p.events$.subscribe((e) => {
        if (e.type === 'settled' && ++events === N) resolve();
      });
    });

    const onSettled = (i: number): void => {
      calls[i]!++;
      cancelable.delete(handles[i]?.id ?? '');
      settledCount++;
      // Cancels land at random moments: queued, running, or already settled.
      if (random() < 0.3 && cancelable.size > 0) {
        const id = [...cancelable][Math.floor(random() * cancelable.size)]!;
        cancelable.delete(id);
        p.cancel(id);
      }
      if (random() < 0.05 && controllers.size > 0) {
        const [index, controller] = controllers.entries().next().value!;
        controllers.delete(index);
        controller.abort('test');
      }
      if (settledCount === KILL_AFTER) killing = p.kill();
    };

    for (let i = 0; i < N; i++) {
      const r = random();
      const kind: Kind =
        r < 0.002
          ? 'exit'
          : r < 0.004
            ? 'hang'
            : r < 0.06
              ? 'throw'
              : r < 0.1
                ? 'cancel'
                : r < 0.12
                  ? 'signal'
                  : 'ok';
      kinds.push(kind);
      const callback = (): void => onSettled(i);
      const priority = Math.floor(random() * 3) - 1;
      let h: RequestHandle<unknown>;
      if (kind === 'exit') h = p.send(`k${i}`, 'exit', 3, { callback, priority });
      else if (kind === 'hang')
        h = p.send(`k${i}`, 'spin', undefined, { callback, priority, timeoutMs: 50 });
      else if (kind === 'throw')
        h = p.send(`k${i}`, 'fail', { device: `d${i}` }, { callback, priority });
      else if (kind === 'cancel') {
        // Waits for its cancel; the timeout is only a backstop.
        h = p.send(`k${i}`, 'waitAbort', undefined, { callback, priority, timeoutMs: 200 });
        if (random() < 0.3) p.cancel(h.id);
        else cancelable.add(h.id);
      } else if (kind === 'signal') {
        const controller = new AbortController();
        controllers.set(i, controller);
        h = p.send(`k${i}`, 'echo', i, { callback, priority, signal: controller.signal });
      } else h = p.send(`k${i}`, 'echo', i, { callback, priority });
      handles.push(h);
    }

    await allSettled;
    await killing;
    expect(killing).toBeDefined();
    expect([...calls].every((c) => c === 1)).toBe(true);
    expect(p.pending).toBe(0);

    const byKind = new Map<string, number>();
    for (let i = 0; i < N; i++) {
      const info = handles[i]!.info();
      const stopped = info.state === 'canceled' && info.error instanceof StoppedError;
      const kind = kinds[i]!;
      const outcome = stopped ? 'stopped' : info.state;
      byKind.set(`${kind}:${outcome}`, (byKind.get(`${kind}:${outcome}`) ?? 0) + 1);
      if (stopped) continue;
      if (kind === 'ok') expect(info).toMatchObject({ state: 'completed', result: i });
      else if (kind === 'throw') expect(info.error?.name).toBe('DeviceError');
      else if (kind === 'exit') expect(info.error).toBeInstanceOf(WorkerCrashedError);
      else if (kind === 'hang') expect(info.state).toBe('timed-out');
      else if (kind === 'cancel') expect(['canceled', 'timed-out']).toContain(info.state);
      else expect(['completed', 'canceled']).toContain(info.state);
    }
    // Every kind of fault actually happened before the kill.
    for (const key of [
      'exit:failed',
      'hang:timed-out',
      'throw:failed',
      'cancel:canceled',
      'signal:canceled',
    ]) {
      expect(byKind.get(key) ?? 0, key).toBeGreaterThan(0);
    }
    const d = p.diagnostics().detail!;
    expect(
      Number(d['completed']) + Number(d['failed']) + Number(d['canceled']) + Number(d['timedOut']),
    ).toBe(N);
  }, 90_000);
});
