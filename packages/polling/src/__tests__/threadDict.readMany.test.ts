import { KeyNotFoundError, TimeoutError } from '@tickwork/core';
import { expect, it } from 'vitest';
import { type ReadFailure, readFailure, ThreadDict } from '../index.js';
import { never, T0, virtualTime } from './helpers.js';

it('readMany gets exactly the keys due together with the same period, one call per period group and tick', async () => {
  const { clock } = virtualTime();
  const calls: string[] = [];
  const dict = new ThreadDict<string>({
    clock,
    registry: false,
    periodMs: 100,
    readMany: (keys) => {
      calls.push(`${clock.now() - T0}:${[...keys].sort().join(',')}`);
      return keys.map((k) => `${k}@${clock.now() - T0}`);
    },
    start: true,
  });
  dict.append('a').append('b').append('c');
  dict.append('d', { periodMs: 250 }).append('e', { periodMs: 250 });
  await clock.advance(30);
  dict.append('x'); // joins the 100 ms group at its next slot
  await clock.advance(470);
  // Order inside one tick is not specified: compare sorted.
  expect([...calls].sort()).toEqual(
    [
      '0:a,b,c',
      '0:d,e',
      '100:a,b,c,x',
      '200:a,b,c,x',
      '250:d,e',
      '300:a,b,c,x',
      '400:a,b,c,x',
      '500:a,b,c,x',
      '500:d,e',
    ].sort(),
  );
  expect(dict.get('x')).toBe('x@500');
  expect(dict.get('e')).toBe('e@500');
  await dict.kill();
});

it('fails only the keys a readMany result marks with readFailure, with their own error', async () => {
  const { clock } = virtualTime();
  class DeviceError extends Error {}
  let deviceDown = true;
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    retry: false,
    readMany: async (keys) => {
      const out = new Map<string, number | ReadFailure>();
      for (const k of keys) {
        const down = deviceDown && k.startsWith('sys/ps/1/');
        out.set(k, down ? readFailure(new DeviceError(`${k}: no reply`)) : k.length);
      }
      return out;
    },
    start: true,
  });
  dict.append('sys/tg/1/temperature').append('sys/ps/1/current').append('sys/ps/1/voltage');
  await clock.advance(0);
  expect(dict.get('sys/tg/1/temperature')).toBe(20);
  for (const key of ['sys/ps/1/current', 'sys/ps/1/voltage']) {
    expect(dict.entry(key).status).toBe('error');
    expect(dict.entry(key).error).toBeInstanceOf(DeviceError);
    expect(dict.entry(key).error?.message).toBe(`${key}: no reply`);
  }
  await expect(dict.read('sys/ps/1/current', { source: 'device' })).rejects.toBeInstanceOf(
    DeviceError,
  );
  deviceDown = false;
  await clock.advance(100);
  expect(dict.get('sys/ps/1/current')).toBe(16);
  expect(dict.entry('sys/ps/1/current').error).toBeFalsy();
  await dict.kill();
});

it('with batchBy, reads each group in its own call, so a hung device holds up only its own keys', async () => {
  const { clock } = virtualTime();
  const calls: string[] = [];
  const dict = new ThreadDict<string>({
    clock,
    registry: false,
    periodMs: 100,
    timeoutMs: 50,
    retry: false,
    batchBy: (key) => key.slice(0, key.lastIndexOf('/')),
    readMany: (keys) => {
      calls.push([...keys].sort().join(','));
      if (keys[0]!.startsWith('ps/1/')) return never();
      return keys.map((k) => `${k}@${clock.now() - T0}`);
    },
    start: true,
  });
  dict.append('tg/1/t').append('tg/1/p').append('ps/1/i').append('ps/1/v').append('tg/2/t');
  await clock.advance(0);
  expect([...calls].sort()).toEqual(['ps/1/i,ps/1/v', 'tg/1/p,tg/1/t', 'tg/2/t']);
  expect(dict.get('tg/1/t')).toBe('tg/1/t@0');
  expect(dict.get('tg/2/t')).toBe('tg/2/t@0');
  await clock.advance(100);
  expect(dict.get('tg/1/p')).toBe('tg/1/p@100');
  expect(dict.entry('ps/1/i').error).toBeInstanceOf(TimeoutError);
  await dict.kill();
  expect(
    () => new ThreadDict<string>({ read: () => 'x', batchBy: () => 'g', registry: false }),
  ).toThrow('options.batchBy needs options.readMany');
  const bad = new ThreadDict<string>({
    readMany: () => [],
    batchBy: () => 5 as never,
    registry: false,
  });
  expect(() => bad.append('k')).toThrow('options.batchBy must return a string (got number for k)');
  await bad.kill();
});

it('takes readMany results as a Map; a key missing from the result fails alone', async () => {
  const { clock } = virtualTime();
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    retry: false,
    readMany: (keys) => new Map(keys.filter((k) => k !== 'gone').map((k) => [k, k.length])),
    start: true,
  });
  dict.append('one').append('three').append('gone');
  await clock.advance(0);
  expect(dict.get('one')).toBe(3);
  expect(dict.get('three')).toBe(5);
  expect(dict.entry('gone').error).toBeInstanceOf(KeyNotFoundError);
  expect(dict.entry('gone').error?.message).toMatch(/readMany returned no value for gone/);
  await dict.kill();
});

it('fails every key of a batch that throws or times out, and skips their slots while it hangs', async () => {
  const { clock } = virtualTime();
  let calls = 0;
  let signal: AbortSignal | undefined;
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    timeoutMs: 150,
    retry: false,
    readMany: (keys, ctx) => {
      calls++;
      if (calls === 1) return keys.map(() => 1);
      if (calls === 2) throw new Error('bus error');
      signal = ctx.signal;
      return never<number[]>();
    },
    start: true,
  });
  dict.append('a').append('b');
  await clock.advance(100);
  expect(dict.entry('a').error?.message).toBe('bus error');
  expect(dict.entry('b').error?.message).toBe('bus error');
  expect(dict.get('a')).toBe(1);
  await clock.advance(150); // the batch read at 200 times out at 350
  await clock.advance(100);
  expect(dict.entry('a').error).toBeInstanceOf(TimeoutError);
  expect(signal?.aborted).toBe(true);
  expect(dict.stats('a')).toMatchObject({ errors: 2, skipped: 1 });
  await dict.kill();
});

it('uses readMany for read() when no read is given, and shares a batch with concurrent read() calls', async () => {
  const { clock, delay } = virtualTime();
  const batches: string[][] = [];
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    readMany: async (keys) => {
      batches.push([...keys]);
      await delay(10);
      return keys.map((k) => k.length);
    },
  });
  dict.append('abc');
  const [a, b] = [dict.read('abc', { source: 'device' }), dict.read('abc', { source: 'device' })];
  await clock.advance(10);
  await expect(a).resolves.toBe(3);
  await expect(b).resolves.toBe(3);
  expect(batches).toEqual([['abc']]);
  await dict.kill();
});

it('with batchBy, a key set() before it is appended is still batched by its group', async () => {
  const { clock } = virtualTime();
  const batches: string[] = [];
  const dict = new ThreadDict<number>({
    clock,
    registry: false,
    periodMs: 100,
    readMany: (keys) => {
      batches.push(keys.join(','));
      return keys.map(() => 1);
    },
    batchBy: (key) => key.slice(0, key.indexOf('/')),
  });
  await dict.set('devA/x', 0);
  await dict.set('devB/y', 0);
  dict.append('devA/x').append('devB/y');
  dict.start();
  await clock.advance(0);
  expect(batches.sort()).toEqual(['devA/x', 'devB/y']);
  await dict.kill();
});
