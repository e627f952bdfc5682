import {
  AbortError,
  type Clock,
  ConfigError,
  KeyNotFoundError,
  TimeoutError,
} from '@tickwork/core';
import { Job, Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterWorkerNode } from '../clusterWorkerNode.js';
import { ClusterWorkerProcess } from '../clusterWorkerProcess.js';
import {
  type Journal,
  makeHandlers,
  type TestHandlers,
  until,
} from './fixtures/clusterWorkerSupport.js';
import { useRedisServer } from './support/useRedisServer.js';

const redis = useRedisServer();
const cleanups: (() => Promise<unknown>)[] = [];

// Registered after useRedisServer(), so it runs while the server is still up.
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A client and one node (not started unless asked) on a fresh queue, killed after the file. */
function setup(
  queueName: string,
  options: { start?: boolean; concurrency?: number; clock?: Clock } = {},
) {
  const journal: Journal = { started: [], aborted: [] };
  const node = new ClusterWorkerNode({
    connection: redis.connection,
    queueName,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    handlers: makeHandlers('n1', journal),
    concurrency: options.concurrency ?? 1,
    start: options.start ?? true,
    registry: false,
  });
  const client = new ClusterWorkerProcess<TestHandlers>({
    connection: redis.connection,
    queueName,
    registry: false,
  });
  cleanups.push(
    () => client.kill(),
    () => node.kill(),
  );
  return { journal, node, client };
}

async function stateOf(client: ClusterWorkerProcess<TestHandlers>, id: string): Promise<string> {
  return (await client.info(id))?.state ?? 'unknown';
}

/** Resolves once every handle's job is in Redis. */
async function sent(...handles: { sent: Promise<boolean> }[]): Promise<void> {
  for (const h of handles) expect(await h.sent).toBe(true);
}

describe('ClusterWorkerProcess send options', () => {
  it('runs higher priorities first, then in order', async () => {
    const { journal, node, client } = setup('prio', { start: false });
    await node.ready();
    const order = ['low', 'low', 'normal', 'high', 'high'] as const;
    const handles = order.map((priority, i) =>
      client.send(`k${i}`, 'echo', `${priority}-${i}`, { priority }),
    );
    const urgent = client.send('k9', 'echo', 'urgent', { priority: 1000 });
    await sent(...handles, urgent);
    expect(client.diagnostics().items?.find((i) => i.name === 'target:echo')?.detail).toMatchObject(
      { queued: 6, running: 0 },
    );
    await until(
      () => (client.diagnostics().detail?.['queueSizes'] as Record<string, number>)?.['prio'] === 6,
      'queue size read from Redis',
    );
    node.start();
    await Promise.all([...handles, urgent]);
    expect(journal.started.map((s) => s.args)).toEqual([
      'urgent',
      'high-3',
      'high-4',
      'normal-2',
      'low-0',
      'low-1',
    ]);
  });

  it('cancels a queued request (removed from Redis) and a running one (aborted on its node)', async () => {
    const { journal, node, client } = setup('cancel', { start: false });
    const other = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'cancel',
      registry: false,
    });
    cleanups.push(() => other.kill());
    const queued = client.send('k', 'echo', 'never');
    const error = queued.then(
      () => undefined,
      (e: unknown) => e,
    );
    await sent(queued);
    expect(await client.cancel(queued.id)).toBe(true);
    expect(await error).toBeInstanceOf(AbortError);
    expect(queued.state).toBe('canceled');
    const raw = new Queue('cancel', { connection: redis.connection });
    cleanups.push(() => raw.close());
    expect(await Job.fromId(raw, queued.id)).toBeUndefined();
    // Another client reads the canceled request from its tombstone.
    expect(await other.info(queued.id)).toMatchObject({ state: 'canceled', target: 'echo' });
    expect(await client.cancel(queued.id)).toBe(false);

    node.start();
    const running = client.send('k', 'wait', 30_000);
    await until(() => journal.started.some((s) => s.id === running.id), 'running on the node');
    // Canceled from another client: the node aborts it and reports it canceled.
    expect(await other.cancel(running.id)).toBe(true);
    await expect(running).rejects.toBeInstanceOf(AbortError);
    await until(() => journal.aborted.some((a) => a.id === running.id), 'aborted on the node');
    expect(journal.aborted.find((a) => a.id === running.id)?.reason).toBe('AbortError');
    const info = await other.waitCompleted(running.id, { timeoutMs: 5_000 });
    expect(info).toMatchObject({ state: 'canceled', node: node.name });
    expect(info.startedAt).not.toBeNull();
    expect(journal.started.some((s) => s.args === 'never')).toBe(false);
    // An unknown id cancels nothing.
    expect(await client.cancel('no-such-request')).toBe(false);
  });

  it('cancels a running request from the control stream alone once the node has listened a while', async () => {
    // Past the node's first 5 s of listening it no longer asks Redis for tombstones:
    // the cancel it read from the control stream must be enough.
    // The node's clock is stepped 6 s forward once it listens, instead of waiting 6 s.
    let skew = 0;
    const clock: Clock = {
      now: () => Date.now() + skew,
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    const { journal, node, client } = setup('cancel-late', { clock });
    await node.ready();
    skew = 6_000;
    const first = client.send('k', 'wait', 30_000);
    await until(() => journal.started.some((s) => s.id === first.id), 'running on the node');
    expect(await client.cancel(first.id)).toBe(true);
    await expect(first).rejects.toBeInstanceOf(AbortError);
    await until(() => journal.aborted.some((a) => a.id === first.id), 'aborted on the node');
    expect(journal.aborted.find((a) => a.id === first.id)?.reason).toBe('AbortError');
    // Requests after it run normally.
    expect(await client.send('k', 'echo', 'after')).toMatchObject({ value: 'after' });
  });

  it('keeps finished jobs 10 min by the node, or as long as a client asks on its own jobs', async () => {
    const { client } = setup('keep');
    const brief = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'keep',
      keepFinishedMs: 5_000,
      registry: false,
    });
    cleanups.push(() => brief.kill());
    const a = client.send('k', 'echo', 'default keep');
    const b = brief.send('k', 'echo', 'brief keep');
    await Promise.all([a, b]);
    const raw = new Queue('keep', { connection: redis.connection });
    cleanups.push(() => raw.close());
    const [ja, jb] = await Promise.all([Job.fromId(raw, a.id), Job.fromId(raw, b.id)]);
    // The default rides on the node's worker options: nothing per job.
    expect(ja?.opts.removeOnComplete).toBeUndefined();
    expect(ja?.finishedOn).toBeGreaterThan(0);
    expect(jb?.opts.removeOnComplete).toEqual({ age: 5 });
    expect(jb?.opts.removeOnFail).toEqual({ age: 5 });
    expect(await a).toMatchObject({ value: 'default keep' });
  });

  it('cancels through the signal option, and refuses an aborted signal at once', async () => {
    const { journal, client } = setup('signal', { start: false });
    const controller = new AbortController();
    const handle = client.send('k', 'echo', 'x', { signal: controller.signal });
    await sent(handle);
    controller.abort();
    await expect(handle).rejects.toBeInstanceOf(AbortError);
    await until(async () => (await stateOf(client, handle.id)) === 'canceled', 'tombstone');
    const late = client.send('k', 'echo', 'y', { signal: AbortSignal.abort() });
    await expect(late).rejects.toBeInstanceOf(AbortError);
    expect(journal.started).toEqual([]);
  });

  it('times out a run on its node (timeoutMs from the start), aborting its signal', async () => {
    const { journal, client } = setup('timeout');
    const started = Date.now();
    const handle = client.send('k', 'wait', 5_000, { timeoutMs: 150 });
    await expect(handle).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(handle.state).toBe('timed-out');
    await until(() => journal.aborted.some((a) => a.id === handle.id), 'aborted');
    expect(journal.aborted.find((a) => a.id === handle.id)?.reason).toBe('TimeoutError');
    expect((await client.info(handle.id))?.state).toBe('timed-out');
    // A command's timeoutMs bounds the whole call, queue wait included.
    await expect(client.command('wait', 5_000, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
  });

  it('passes upstream results with after, and fails or cancels dependents of bad upstreams', async () => {
    const { journal, client } = setup('after', { concurrency: 4 });
    const other = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'after',
      registry: false,
    });
    cleanups.push(() => other.kill());
    const a = client.send('a', 'wait', 200);
    const b = other.send('b', 'echo', 'from-b'); // another client's request
    const c = client.send('c', 'echo', 'c', { after: [a.id, b.id] });
    expect(c.state).toBe('waiting');
    const result = await c;
    expect(result.upstream).toEqual([200, { value: 'from-b', node: 'n1', upstream: [] }]);
    const startedC = journal.started.findIndex((s) => s.id === c.id);
    expect(startedC).toBeGreaterThan(journal.started.findIndex((s) => s.id === a.id));

    const failed = client.send('f', 'fail', 'boom');
    const afterFailed = client.send('d', 'echo', 'd', { after: failed.id });
    await expect(failed).rejects.toBeInstanceOf(RangeError);
    const e1 = await afterFailed.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(e1).toBeInstanceOf(AbortError);
    expect((e1 as Error).cause).toBeInstanceOf(RangeError);
    expect(afterFailed.state).toBe('failed');

    const slow = client.send('s', 'wait', 30_000);
    const afterCanceled = client.send('d', 'echo', 'd', { after: slow.id });
    await client.cancel(slow.id);
    await expect(afterCanceled).rejects.toBeInstanceOf(AbortError);
    expect(afterCanceled.state).toBe('canceled');

    await expect(
      client.send('d', 'echo', 'd', { after: 'nobody-sent-this' }),
    ).rejects.toBeInstanceOf(KeyNotFoundError);
    expect(journal.started.filter((s) => s.key === 'd')).toEqual([]);
  });

  it('coalesces identical requests in flight with dedupe, cluster-wide', async () => {
    const { journal, node, client } = setup('dedupe', { start: false });
    const other = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'dedupe',
      registry: false,
    });
    cleanups.push(() => other.kill());
    const first = client.send('k', 'echo', 'same', { dedupe: true });
    await sent(first);
    const second = other.send('k', 'echo', 'same', { dedupe: true });
    const third = client.send('k', 'echo', 'same', { dedupe: true });
    const different = client.send('k', 'echo', 'other', { dedupe: true });
    await until(
      () => second.info().jobId === first.id && third.info().jobId === first.id,
      'joined',
    );
    // Canceling a joiner only detaches it.
    expect(await third.cancel()).toBe(true);
    await expect(third).rejects.toBeInstanceOf(AbortError);
    node.start();
    const [r1, r2, r4] = await Promise.all([first, second, different]);
    expect(r1).toEqual(r2);
    expect(r4.value).toBe('other');
    expect(journal.started.filter((s) => s.args === 'same')).toHaveLength(1);
    expect(second.id).not.toBe(first.id);
    const target = client.diagnostics().items?.find((i) => i.name === 'target:echo');
    expect(target?.detail).toMatchObject({ coalesced: 1, completed: 2, canceled: 1 });
    // Once the first has finished, the same request runs again.
    await client.send('k', 'echo', 'same', { dedupe: true });
    expect(journal.started.filter((s) => s.args === 'same')).toHaveLength(2);
  });

  it('stops a group cluster-wide: queued removed, running aborted, others untouched', async () => {
    const { journal, client } = setup('groups', { concurrency: 1 });
    const other = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'groups',
      registry: false,
    });
    cleanups.push(() => other.kill());
    const running = client.send('k', 'wait', 30_000, { group: 'g' });
    const queued = client.send('k', 'echo', 'q', { group: 'g' });
    const held = client.send('k', 'echo', 'h', { group: 'g', after: running.id });
    const keep = client.send('k', 'echo', 'keep', { group: 'h' });
    await until(() => journal.started.some((s) => s.id === running.id), 'running');
    await sent(queued);
    // Stopped from another client: it finds the group's jobs in Redis.
    expect(await other.stopGroup('g')).toBe(2);
    for (const h of [running, queued, held]) await expect(h).rejects.toBeInstanceOf(AbortError);
    expect((await keep).value).toBe('keep');
    expect(journal.started.some((s) => s.args === 'q' || s.args === 'h')).toBe(false);
    expect(held.state).toBe('canceled');
    await expect(client.stopGroup('g')).resolves.toBe(0);
  });

  it('waits for requests of any client, with info giving state and times', async () => {
    const { client } = setup('wait', { concurrency: 4 });
    const other = new ClusterWorkerProcess<TestHandlers>({
      connection: redis.connection,
      queueName: 'wait',
      registry: false,
    });
    cleanups.push(() => other.kill());
    const ok = client.send('k', 'wait', 100);
    const bad = client.send('k', 'fail', 'no');
    bad.catch(() => undefined);
    const infos = await other.waitCompleted([ok.id, bad.id], { timeoutMs: 10_000 });
    expect(infos.map((i) => i.state)).toEqual(['completed', 'failed']);
    const [done] = infos;
    expect(done).toMatchObject({ id: ok.id, key: 'k', target: 'wait', result: 100, attempts: 1 });
    expect(done!.startedAt! - done!.queuedAt).toBeGreaterThanOrEqual(0);
    expect(done!.finishedAt! - done!.startedAt!).toBeGreaterThanOrEqual(90);
    expect(infos[1]!.error).toBeInstanceOf(RangeError);
    await expect(other.waitCompleted('unknown-id')).rejects.toBeInstanceOf(KeyNotFoundError);
    const long = client.send('k', 'wait', 30_000);
    await expect(other.waitCompleted(long.id, { timeoutMs: 100 })).rejects.toBeInstanceOf(
      TimeoutError,
    );
    expect(await other.info('unknown-id')).toBeUndefined();
    await client.cancel(long.id);
    // A command runs after the requests this client sent before it.
    const before = client.send('k', 'wait', 300);
    const cmd = await client.command('echo', 'cmd');
    expect(before.state).toBe('completed');
    expect(cmd.value).toBe('cmd');
    const diag = client.diagnostics();
    const waits = diag.items?.find((i) => i.name === 'target:wait');
    expect(waits?.detail).toMatchObject({ completed: 2, canceled: 1 });
    expect(waits?.stats.duration.count).toBeGreaterThanOrEqual(2);
  });

  it('rejects bad input with ConfigError naming the option', () => {
    const { client } = setup('bad');
    expect(() => client.send('k', 'echo', 'x', { priority: 1.5 })).toThrow(/send options.priority/);
    expect(() => client.send('k', 'echo', 'x', { priority: 2 ** 21 })).toThrow(ConfigError);
    expect(() => client.send('k', 'echo', 'x', { priority: 'urgent' as 'high' })).toThrow(
      ConfigError,
    );
    expect(() => client.send('k', 'echo', 'x', { timeout: 5 } as never)).toThrow(
      /send options.timeout is not an option/,
    );
    expect(() => client.send('k', 'echo', 'x', { signal: 'no' as never })).toThrow(/AbortSignal/);
    expect(() => client.send('k', 'echo', 'x', { after: 5 as never })).toThrow(
      /send options.after/,
    );
    expect(() => client.send('k', 'echo', 'x', { dedupe: 'yes' as never })).toThrow(ConfigError);
    expect(() => client.send('k', 'echo', 'x', { group: '' })).toThrow(/send options.group/);
    expect(() => client.command('echo', 'x', { priority: 1 } as never)).toThrow(ConfigError);
    expect(() => client.add('k', 'echo', 'x', { periodMs: 0 })).toThrow(/add options.periodMs/);
    expect(() => client.add('k', 'echo', 'x', undefined as never)).toThrow(
      /add options are required/,
    );
    expect(() => client.get('nope')).toThrow(KeyNotFoundError);
    expect(
      () =>
        new ClusterWorkerProcess({ connection: redis.connection, partitions: -1, registry: false }),
    ).toThrow(/options.partitions/);
    expect(
      () =>
        new ClusterWorkerProcess({
          connection: redis.connection,
          queueName: 'a:b',
          registry: false,
        }),
    ).toThrow(/options.queueName/);
    expect(
      () =>
        new ClusterWorkerNode({
          connection: redis.connection,
          handlers: {},
          lockDurationMs: 10,
          registry: false,
        }),
    ).toThrow(/options.lockDurationMs/);
    expect(
      () =>
        new ClusterWorkerNode({
          connection: redis.connection,
          handlers: {},
          maxStalledCount: -1,
          registry: false,
        }),
    ).toThrow(/options.maxStalledCount/);
    expect(
      () =>
        new ClusterWorkerNode({ connection: redis.connection, pool: {} as never, registry: false }),
    ).toThrow(/options.pool.send/);
    return Promise.all([
      expect(client.cancel('' as string)).rejects.toBeInstanceOf(ConfigError),
      expect(client.waitCompleted(['x', 3 as never])).rejects.toThrow(/ids\[1\]/),
      expect(client.waitCompleted('x', { timeoutMs: -1 })).rejects.toBeInstanceOf(ConfigError),
      expect(client.stopGroup('')).rejects.toBeInstanceOf(ConfigError),
    ]);
  });
});
