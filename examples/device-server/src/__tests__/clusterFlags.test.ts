import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import { startDeviceServer } from '../deviceServer.js';
import { parseRedisUrl, redisLabel } from '../redisUrl.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('parseRedisUrl', () => {
  it('turns redis:// URLs into ioredis options', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379 });
    expect(parseRedisUrl('redis://cache.local')).toEqual({ host: 'cache.local', port: 6379 });
    expect(parseRedisUrl('redis://:s%40cret@10.0.0.5:6380/2')).toEqual({
      host: '10.0.0.5',
      port: 6380,
      password: 's@cret',
      db: 2,
    });
    expect(parseRedisUrl('redis://ops:pw@[::1]:7000/')).toEqual({
      host: '::1',
      port: 7000,
      username: 'ops',
      password: 'pw',
    });
    expect(parseRedisUrl('rediss://redis.example.com:6390')).toEqual({
      host: 'redis.example.com',
      port: 6390,
      tls: {},
    });
  });

  it.each([
    ['127.0.0.1:6379', /must be a URL like redis:\/\/127\.0\.0\.1:6379/],
    ['localhost:6379', /must be a redis:\/\/ or rediss:\/\/ URL/],
    ['localhost', /must be a URL like/],
    ['http://127.0.0.1:6379', /must be a redis:\/\/ or rediss:\/\/ URL/],
    ['redis://', /needs a host/],
    ['redis://127.0.0.1:99999', /must be a URL/],
    ['redis://127.0.0.1:6379/zero', /database must be a number/],
    ['redis://127.0.0.1:6379?db=1', /takes no query or fragment/],
  ])('refuses %s with a ConfigError saying why', (text, why) => {
    let error: unknown;
    try {
      parseRedisUrl(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe('redis');
    expect((error as Error).message).toMatch(why);
    expect((error as Error).message).toContain(JSON.stringify(text));
  });

  it('labels a connection without its password', () => {
    expect(redisLabel(parseRedisUrl('redis://:secret@10.0.0.5:6380/2'))).toBe(
      'redis://10.0.0.5:6380/2',
    );
    expect(redisLabel({ host: '::1', port: 7000, tls: {} })).toBe('rediss://[::1]:7000');
  });
});

it('refuses a virtual clock in cluster mode, before connecting to anything', async () => {
  await expect(
    startDeviceServer({
      redis: { host: '127.0.0.1', port: 1 },
      clock: new VirtualClock(),
      port: 0,
    }),
  ).rejects.toThrow(ConfigError);
});

it('main.ts exits 2 with a clear message on a bad --redis URL', async () => {
  const { code, out } = await new Promise<{ code: number | null; out: string }>(
    (resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--conditions=@tickwork/source', '--import', 'tsx', 'src/main.ts', '--redis', 'redis:/x'],
        { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let text = '';
      child.stdout.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        text += d.toString();
      });
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, out: text }));
    },
  );
  expect(out).toContain('device-server: --redis needs a host, as in redis://127.0.0.1:6379');
  expect(out).toContain('(got "redis:/x")');
  expect(code).toBe(2);
}, 30_000);
