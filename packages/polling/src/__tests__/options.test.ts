import { ConfigError } from '@tickwork/core';
import { describe, expect, it } from 'vitest';
import { ThreadDict, type ThreadDictOptions } from '../index.js';
import { thrown } from './helpers.js';

const read = (): number => 1;

function configError(fn: () => unknown): ConfigError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe('ThreadDict: bad options and keys throw ConfigError naming them', () => {
  const cases: [Partial<ThreadDictOptions<number>> | Record<string, unknown>, string][] = [
    [{}, 'ThreadDict: options.read or options.readMany must be a function (got neither)'],
    [{ read: 1 }, 'ThreadDict: options.read must be a function (got 1)'],
    [
      { read, periodMs: Number.NaN },
      'ThreadDict: options.periodMs must be a finite number from 1 to 2147483647 (got NaN)',
    ],
    [
      { read, periodMs: 0 },
      'ThreadDict: options.periodMs must be a finite number from 1 to 2147483647 (got 0)',
    ],
    [
      { read, expireMs: -1 },
      'ThreadDict: options.expireMs must be a finite number from 1 to 2147483647 (got -1)',
    ],
    [
      { read, timeoutMs: 'x' },
      'ThreadDict: options.timeoutMs must be a finite number from 1 to 2147483647 (got "x")',
    ],
    [{ read, concurrency: 0 }, 'ThreadDict: options.concurrency must be an integer >= 1 (got 0)'],
    [
      { read, retry: { factor: 0.5 } },
      'ThreadDict: options.retry.factor must be a finite number from 1 to 1000 (got 0.5)',
    ],
    [
      { read, retry: { jitter: 2 } },
      'ThreadDict: options.retry.jitter must be a finite number from 0 to 1 (got 2)',
    ],
    [
      { read, retry: { initialMs: 0 } },
      'ThreadDict: options.retry.initialMs must be a finite number from 1 to 2147483647 (got 0)',
    ],
    [{ read, retry: 5 }, 'ThreadDict: options.retry must be an object or false (got 5)'],
    [
      { read, historyDepth: -1 },
      'ThreadDict: options.historyDepth must be an integer from 0 to 100000 (got -1)',
    ],
    [
      { read, maxEntries: 0 },
      'ThreadDict: options.maxEntries must be an integer from 1 to 4294967295 (got 0)',
    ],
    [{ read, equals: 'x' }, 'ThreadDict: options.equals must be a function (got "x")'],
    [{ read, threaded: 'no' }, 'ThreadDict: options.threaded must be a boolean (got "no")'],
    [{ read, readMany: {} }, 'ThreadDict: options.readMany must be a function (got an object)'],
    [{ read, write: 3 }, 'ThreadDict: options.write must be a function (got 3)'],
    [{ read, name: '' }, 'ThreadDict: options.name must be a non-empty string (got "")'],
  ];
  for (const [options, message] of cases) {
    it(message, () => {
      const error = configError(
        () => new ThreadDict({ registry: false, ...options } as ThreadDictOptions<number>),
      );
      expect(error.message).toBe(message);
      expect(error.code).toBe('ERR_CONFIG');
    });
  }

  it('rejects an options argument that is not an object', () => {
    expect(configError(() => new ThreadDict(5 as never)).message).toBe(
      'ThreadDict: options must be an object (got 5)',
    );
  });

  it('rejects empty and non-string keys in every method', async () => {
    const dict = new ThreadDict<number>({ registry: false, read });
    const message = (got: string): string =>
      `ThreadDict: key must be a non-empty string (got ${got})`;
    expect(configError(() => dict.append('')).message).toBe(message('""'));
    expect(configError(() => dict.append(5 as never)).message).toBe(message('5'));
    expect(configError(() => dict.get(undefined as never)).message).toBe(message('undefined'));
    expect(configError(() => dict.entry('')).message).toBe(message('""'));
    expect(configError(() => dict.remove({} as never)).message).toBe(message('an object'));
    expect(configError(() => dict.watch('')).message).toBe(message('""'));
    expect(configError(() => dict.status('')).message).toBe(message('""'));
    expect(configError(() => dict.history('')).message).toBe(message('""'));
    expect(configError(() => dict.stats('')).message).toBe(message('""'));
    expect((await rejection(dict.read(''))).message).toBe(message('""'));
    expect((await rejection(dict.set('', 1))).message).toBe(message('""'));
    expect(dict.has('')).toBe(false);
    await dict.kill();
  });

  it('rejects bad append and read options', async () => {
    const dict = new ThreadDict<number>({ registry: false, read });
    expect(configError(() => dict.append('k', { periodMs: -1 })).message).toBe(
      'ThreadDict: append options.periodMs must be a finite number from 1 to 2147483647 (got -1)',
    );
    expect(configError(() => dict.append('k', 3 as never)).message).toBe(
      'ThreadDict: append options must be an object (got 3)',
    );
    expect((await rejection(dict.read('k', { source: 'disk' as never }))).message).toBe(
      "ThreadDict: read options.source must be one of 'device', 'cache', 'cache-device' (got \"disk\")",
    );
    await dict.kill();
  });
});
