import { ConfigError, ExpiredError, KeyNotFoundError, StoppedError } from '@tickwork/core';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ClusterThreadDict } from '../clusterThreadDict.js';
import type { ClusterEntry } from '../clusterThreadDictTypes.js';
import { parseLeaseJobId, windowEnd } from '../shardLeaseJob.js';
import { shardOf } from '../shardOf.js';
import { ValueStore } from '../valueStore.js';
import { useRedisServer } from './support/useRedisServer.js';
import { realDelay, waitUntil } from './support/waitUntil.js';

const redis = useRedisServer();

const silent = { registry: false as const };

/** One entry of the publish script's records (see PUBLISH_SCRIPT). */
function rec(keyJson: string, t: number, ttlMs: number, payload: string): string {
  return `${keyJson}\x1f${t}\x1f${ttlMs}\x1f${payload}`;
}

describe('ClusterThreadDict: bad input', () => {
  it('throws ConfigError naming the option', async () => {
    const read = (key: string): string => key;
    const base = { connection: { host: '127.0.0.1', port: 1 }, name: 'bad', read, ...silent };
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ name: undefined }, /options.name is required/],
      [{ name: 'a:b' }, /options.name must not contain ":"/],
      [{ connection: undefined }, /options.connection is required/],
      [{ leaseMs: 1000 }, /options.leaseMs must be an integer from 2000 to 10000/],
      [{ leaseMs: 20_000 }, /options.leaseMs/],
      [{ shards: 0 }, /options.shards/],
      [{ shards: 1.5 }, /options.shards/],
      [{ read: undefined }, /options.read or options.readMany/],
      [{ periodMs: 0 }, /options.periodMs/],
      [{ expireMs: -1 }, /options.expireMs/],
      [{ nodeId: 'a|b' }, /options.nodeId/],
      [{ flushMs: 0 }, /options.flushMs/],
      [{ graceMs: 6000 }, /options.graceMs/],
      [{ retry: { factor: 'x' } }, /^ClusterThreadDict: options.retry.factor/],
      [{ concurrency: 0 }, /^ClusterThreadDict: options.concurrency/],
    ];
    for (const [override, message] of bad) {
      const options = { ...base, ...override } as unknown as ConstructorParameters<
        typeof ClusterThreadDict<string>
      >[0];
      expect(() => new ClusterThreadDict<string>(options), JSON.stringify(override)).toThrow(
        ConfigError,
      );
      expect(() => new ClusterThreadDict<string>(options)).toThrow(message);
    }
    expect(() => shardOf('', 4)).toThrow(ConfigError);
    expect(() => shardOf('k', 0)).toThrow(ConfigError);

    const dict = new ClusterThreadDict<string>({
      connection: redis.connection,
      name: 'bad',
      poll: false,
      ...silent,
    });
    try {
      expect(() => dict.append('')).toThrow(ConfigError);
      expect(() => dict.append('k', { periodMs: -5 })).toThrow(/append options.periodMs/);
      expect(() => dict.append('k', { expireMs: Number.NaN })).toThrow(/append options.expireMs/);
      expect(() => dict.get(42 as unknown as string)).toThrow(ConfigError);
      expect(() => dict.get('nope')).toThrow(KeyNotFoundError);
      expect(() => dict.entry('nope')).toThrow(KeyNotFoundError);
      const errors: unknown[] = [];
      dict.watch('nope').subscribe({ error: (error: unknown) => errors.push(error) });
      expect(errors[0]).toBeInstanceOf(KeyNotFoundError);
    } finally {
      await dict.kill();
    }
    expect(() => dict.append('k')).toThrow(StoppedError);
  });

  it('hashes keys into shards the same way everywhere', () => {
    expect(shardOf('sys/tg/1/temperature', 16)).toBe(shardOf('sys/tg/1/temperature', 16));
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`device/${i}/attr`, 8)]!++;
    for (const count of counts) expect(count).toBeGreaterThan(800);
  });
});

describe('ClusterThreadDict: values in Redis', () => {
  it('last writer wins by sample time: an older sample never overwrites a newer one', async () => {
    const name = 'lww';
    const handlers = {
      onValues: () => {},
      onLease: () => {},
      onCommandReady: () => {},
      onSubscribed: () => {},
    };
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const store = new ValueStore(
      redis.connection,
      `bull:tickwork-poll-${name}`,
      'writer',
      handlers,
      logger,
    );
    const raw = new Redis(redis.connection);
    const mirror = new ClusterThreadDict<string>({
      connection: redis.connection,
      name,
      poll: false,
      expireMs: Number.POSITIVE_INFINITY,
      ...silent,
    });
    try {
      mirror.append('x');
      await mirror.synced();
      const seen: string[] = [];
      mirror.watch('x').subscribe((entry) => {
        if (entry.hasValue) seen.push(entry.value as string);
      });
      const key = store.valueKey('"x"');
      const t = Date.now();
      expect(await store.publish(rec('"x"', t, 0, '"new"'), '"x"', '')).toEqual({
        redo: [],
        rejected: [],
      });
      expect(await store.publish(rec('"x"', t - 1000, 0, '"old"'), '"x"', '')).toEqual({
        redo: [],
        rejected: [0],
      });
      expect(await store.publish(rec('"x"', t, 0, '"same time"'), '"x"', '')).toEqual({
        redo: [],
        rejected: [0],
      });
      expect(await raw.get(key)).toBe(`${t}|"new"`);
      // A refresh applies only on top of the sample it names.
      expect(await store.publish(rec('"x"', t + 10, 0, `=${t - 5}`), '"x"', '')).toEqual({
        redo: [0],
        rejected: [],
      });
      expect(await store.publish(rec('"x"', t + 20, 5000, `=${t}`), '"x"', '')).toEqual({
        redo: [],
        rejected: [],
      });
      expect(await raw.get(key)).toBe(`${t + 20}|"new"`);
      expect(await raw.pttl(key)).toBeGreaterThan(4000);
      // Several entries in one call: each judged on its own.
      const batch = [
        rec('"y"', t, 0, '{"a":[1,"|\\u001e"]}'),
        rec('"x"', t + 5, 0, '"older than stored"'),
        rec('"z|\\u001f"', t, 0, 'null'),
      ].join('\x1e');
      expect(await store.publish(batch, '"y"', '')).toEqual({ redo: [], rejected: [1] });
      expect(await raw.get(store.valueKey('"y"'))).toBe(`${t}|{"a":[1,"|\\u001e"]}`);
      expect(await raw.get(store.valueKey('"z|\\u001f"'))).toBe(`${t}|null`);
      await waitUntil(() => mirror.entry('x').sampledAt === t + 20, 5000, 'the refresh arrives');
      expect(mirror.get('x')).toBe('new');
      expect(seen).toEqual(['new']);
      // A node joining later reads the newest sample back from Redis.
      const late = new ClusterThreadDict<string>({
        connection: redis.connection,
        name,
        poll: false,
        ...silent,
      });
      late.append('x', { expireMs: Number.POSITIVE_INFINITY });
      await late.synced();
      await waitUntil(() => late.entry('x').hasValue, 5000, 'the late node reads x');
      expect(late.entry('x')).toMatchObject({ value: 'new', sampledAt: t + 20, stale: false });
      await late.kill();
    } finally {
      await mirror.kill();
      await store.close();
      await raw.quit();
    }
  });

  it('get throws ExpiredError for a missing or expired value, like ThreadDict', async () => {
    const name = 'expiry';
    const writer = new ClusterThreadDict<number>({
      connection: redis.connection,
      name,
      shards: 2,
      leaseMs: 2000,
      periodMs: 50,
      expireMs: 300,
      read: () => {
        throw new Error('device down');
      },
      ...silent,
    });
    const reader = new ClusterThreadDict<number>({
      connection: redis.connection,
      name,
      poll: false,
      ...silent,
    });
    const store = new ValueStore(
      redis.connection,
      `bull:tickwork-poll-${name}`,
      'other',
      { onValues() {}, onLease() {}, onCommandReady() {}, onSubscribed() {} },
      { debug() {}, info() {}, warn() {}, error() {} },
    );
    try {
      writer.append('t', { periodMs: 50, expireMs: 300 });
      reader.append('t', { periodMs: 50, expireMs: 300 });
      await Promise.all([writer.synced(), reader.synced()]);
      const missing = (() => {
        try {
          reader.get('t');
        } catch (error) {
          return error;
        }
      })() as ExpiredError;
      expect(missing).toBeInstanceOf(ExpiredError);
      expect(missing.ageMs).toBe(Number.POSITIVE_INFINITY);
      expect(() => reader.get('t', { allowStale: true })).toThrow(/has no value yet/);
      // Another node's sample: fresh on both nodes, then expired on both.
      const t = Date.now();
      await store.publish(rec('"t"', t, 300, '21.5'), '"t"', '');
      await waitUntil(
        () => reader.entry('t').hasValue && writer.entry('t').hasValue,
        5000,
        'fresh',
      );
      expect(reader.get('t')).toBe(21.5);
      expect(writer.get('t')).toBe(21.5);
      await waitUntil(() => Date.now() > t + 350, 2000, 'expiry');
      for (const node of [reader, writer]) {
        expect(() => node.get('t')).toThrow(ExpiredError);
        expect(node.get('t', { allowStale: true })).toBe(21.5);
        expect(node.entry('t')).toMatchObject({ stale: true, value: 21.5, sampledAt: t });
      }
    } finally {
      await Promise.all([writer.kill(), reader.kill(), store.close()]);
    }
  });
});

describe('ClusterThreadDict: shard confirmations', () => {
  it('keeps an unchanged value fresh elsewhere without sending it again, and lets a failing one expire', async () => {
    const name = 'confirm';
    let failing = false;
    const poller = new ClusterThreadDict<number>({
      connection: redis.connection,
      name,
      shards: 2,
      leaseMs: 2000,
      periodMs: 100,
      retry: false,
      read: () => {
        if (failing) throw new Error('device down');
        return 7;
      },
      ...silent,
    });
    const reader = new ClusterThreadDict<number>({
      connection: redis.connection,
      name,
      poll: false,
      shards: 2, // as every node of the dict
      periodMs: 100,
      ...silent,
    });
    try {
      poller.append('v');
      reader.append('v');
      await Promise.all([poller.synced(), reader.synced()]);
      await waitUntil(() => reader.entry('v').hasValue, 5000, 'a first value on the reader');
      const firstAt = reader.entry('v').sampledAt!;
      // Three expiries later the value, never changed, is still fresh there.
      await realDelay(3 * 400);
      await waitUntil(() => !reader.entry('v').stale, 1000, 'fresh on the reader');
      expect(reader.get('v')).toBe(7);
      expect(reader.entry('v').sampledAt!).toBeGreaterThan(firstAt + 2 * 400);
      const publish = (poller.diagnostics().detail as { publish: Record<string, number> }).publish;
      expect(publish['changes']).toBe(1);
      expect(publish['confirmations']).toBeGreaterThan(10);
      // A key that fails is no longer vouched for: it expires everywhere.
      failing = true;
      const failedAt = Date.now();
      await waitUntil(
        () => reader.entry('v').stale && poller.entry('v').stale,
        3000,
        'stale on both nodes',
      );
      expect(Date.now() - failedAt).toBeLessThan(400 + 1000);
      expect(() => reader.get('v')).toThrow(ExpiredError);
      expect(reader.get('v', { allowStale: true })).toBe(7);
      failing = false;
      await waitUntil(() => !reader.entry('v').stale, 3000, 'fresh again once it reads');
    } finally {
      await Promise.all([poller.kill(), reader.kill()]);
    }
  });
});

describe('ClusterThreadDict: lease claims and windows', () => {
  it("moves a shard's owner record only forward in slot time", async () => {
    const handlers = { onValues() {}, onLease() {}, onCommandReady() {}, onSubscribed() {} };
    const logger = { debug() {}, info() {}, warn() {}, error() {} };
    const base = 'bull:tickwork-poll-claims';
    const one = new ValueStore(redis.connection, base, 'one', handlers, logger);
    const two = new ValueStore(redis.connection, base, 'two', handlers, logger);
    try {
      expect(await one.claim(3, 2000, 10_000)).toBe(true);
      // A redelivered job of an older window finds the newer claim.
      expect(await two.claim(3, 1000, 10_000)).toBe('2000|one');
      // The same window given to another node (the first lost its lock).
      expect(await two.claim(3, 2000, 10_000)).toBe(true);
      expect(await one.owners(4)).toEqual([null, null, null, '2000|two']);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('computes a lease window as BullMQ computes the next slot', () => {
    expect(windowEnd(10_000, 2000, 10_050)).toBe(12_000);
    expect(windowEnd(10_000, 2000, 12_000)).toBe(12_000);
    // Taken late: the next slot on the grid after the pickup.
    expect(windowEnd(10_500, 2000, 13_000)).toBe(14_500);
    expect(windowEnd(10_500, 2000, 14_500)).toBe(16_500);
    expect(parseLeaseJobId('repeat:shard-3:1795312873100')).toEqual({
      shard: 3,
      slot: 1795312873100,
    });
    expect(parseLeaseJobId('repeat:other:1')).toBeUndefined();
  });
});

describe('ClusterThreadDict: layout', () => {
  it('reports a node whose shards differ from the cluster, until the other layout expires', async () => {
    const logged: string[] = [];
    const logger = {
      debug: () => {},
      info: (_: unknown, msg?: string) => {
        if (msg?.includes('layout')) logged.push(`info ${msg}`);
      },
      warn: () => {},
      error: (_: unknown, msg?: string) => logged.push(`error ${msg}`),
    };
    const common = { connection: redis.connection, name: 'layout', poll: false, leaseMs: 2000 };
    const a = new ClusterThreadDict<string>({ ...common, shards: 8, ...silent });
    await a.synced(); // A's layout is stored first
    const b = new ClusterThreadDict<string>({ ...common, shards: 4, logger, ...silent });
    const raw = new Redis(redis.connection);
    const key = 'bull:tickwork-poll-layout:layout';
    try {
      await b.synced();
      expect(a.diagnostics().detail?.['layoutConflict']).toBeNull();
      expect(b.diagnostics().detail?.['layoutConflict']).toBe('shards=8 leaseMs=2000');
      expect(logged).toEqual([
        'error layout conflict: this node has shards=4 leaseMs=2000, the other nodes shards=8 leaseMs=2000; every node of one dict needs the same shards and leaseMs',
      ]);
      // The stored layout is A's, kept for three windows after its last renewal.
      expect(await raw.get(key)).toBe('shards=8 leaseMs=2000');
      const ttl = await raw.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(6000);
      await a.kill();
      await raw.del(key); // stands in for the 6 s until A's layout expires
      await waitUntil(
        () => b.diagnostics().detail?.['layoutConflict'] === null,
        3000,
        "B's check (every leaseMs) finding the key free",
      );
      expect(logged[1]).toMatch(/^info layout conflict over/);
      expect(await raw.get(key)).toBe('shards=4 leaseMs=2000');
    } finally {
      await a.kill();
      await b.kill();
      await raw.quit();
    }
  });
});

describe('ClusterThreadDict: lifecycle', () => {
  it('stop hands the leases to another node at once; kill ends watch streams', async () => {
    const name = 'life';
    const make = (nodeId: string) =>
      new ClusterThreadDict<number>({
        connection: redis.connection,
        name,
        nodeId,
        shards: 4,
        leaseMs: 4000,
        periodMs: 200,
        read: () => 1,
        ...silent,
      });
    const first = make('first');
    first.append('a');
    await first.synced();
    await waitUntil(() => first.shards().every((s) => s.held), 3000, 'first holds all');
    const second = make('second');
    second.append('a');
    await second.synced();
    await realDelay(200);
    expect(second.shards().some((s) => s.held)).toBe(false);
    const stoppedAt = Date.now();
    expect(await first.stop()).toBe(true);
    expect(first.shards().some((s) => s.held)).toBe(false);
    // Handed back as due now: taken long before the next slot (4 s away).
    await waitUntil(() => second.shards().every((s) => s.held), 2500, 'second holds all');
    expect(Date.now() - stoppedAt).toBeLessThan(2500);
    // A stopped node still mirrors values: the new poller's confirmations keep them fresh.
    await waitUntil(() => first.entry('a').sampledAt! > stoppedAt, 2000, 'confirmed by second');
    expect(first.get('a')).toBe(1);

    const entries: ClusterEntry<number>[] = [];
    let completed = false;
    second
      .watch('a')
      .subscribe({ next: (e) => entries.push(e), complete: () => (completed = true) });
    let changesCompleted = false;
    second.changes$.subscribe({ complete: () => (changesCompleted = true) });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ key: 'a', value: 1, stale: false });
    await second.kill();
    expect(completed).toBe(true);
    expect(changesCompleted).toBe(true);
    expect(second.get('a', { allowStale: true })).toBe(1);
    expect(() => second.start()).toThrow(StoppedError);
    await first.kill();
    const after: boolean[] = [];
    second.watch('a').subscribe({ complete: () => after.push(true) });
    expect(after).toEqual([true]);
  });
});
