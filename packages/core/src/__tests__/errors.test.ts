import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  ConfigError,
  CronSyntaxError,
  ExpiredError,
  errorClasses,
  isTickworkError,
  KeyNotFoundError,
  OverrunError,
  StoppedError,
  TickworkError,
  TimeoutError,
  WorkerCrashedError,
} from '../errors.js';
import {
  deserializeError,
  isSerializedError,
  type SerializedError,
  serializeError,
} from '../serializeError.js';

function viaMessageChannel(data: SerializedError): Promise<SerializedError> {
  const { port1, port2 } = new MessageChannel();
  return new Promise((resolve) => {
    port2.once('message', (m: SerializedError) => {
      port1.close();
      port2.close();
      resolve(m);
    });
    port1.postMessage(data);
  });
}

describe('error classes', () => {
  it('each has its name, code, cause and class-specific fields', () => {
    const cause = new Error('root');
    const cases: [TickworkError, string, string][] = [
      [
        new ConfigError('X: options.a must be ...', 'options.a', { cause }),
        'ConfigError',
        'ERR_CONFIG',
      ],
      [new KeyNotFoundError('k'), 'KeyNotFoundError', 'ERR_KEY_NOT_FOUND'],
      [new ExpiredError('k', 3, 500), 'ExpiredError', 'ERR_EXPIRED'],
      [new TimeoutError('t', 50), 'TimeoutError', 'ERR_TIMEOUT'],
      [new AbortError(), 'AbortError', 'ERR_ABORTED'],
      [new OverrunError('o'), 'OverrunError', 'ERR_OVERRUN'],
      [new WorkerCrashedError('w', 3), 'WorkerCrashedError', 'ERR_WORKER_CRASHED'],
      [new CronSyntaxError('c', '* * *', 'expression', 5), 'CronSyntaxError', 'ERR_CRON_SYNTAX'],
      [new StoppedError('s'), 'StoppedError', 'ERR_STOPPED'],
    ];
    for (const [error, name, code] of cases) {
      expect(error).toBeInstanceOf(TickworkError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect(error.code).toBe(code);
      expect(isTickworkError(error, error.code)).toBe(true);
      expect(String(error)).toMatch(new RegExp(`^${name}: `));
      expect(Object.keys(errorClasses)).toContain(name);
    }
    expect(cases[0]![0].cause).toBe(cause);
    expect((cases[0]![0] as ConfigError).path).toBe('options.a');
    const expired = cases[2]![0] as ExpiredError<number>;
    expect([expired.key, expired.value, expired.ageMs]).toEqual(['k', 3, 500]);
    expect(expired.message).toBe('Value of k expired: last sampled 500 ms ago');
    expect(isTickworkError(new Error('x'))).toBe(false);
    expect(isTickworkError(expired, 'ERR_TIMEOUT')).toBe(false);
  });
});

describe('serializeError / deserializeError', () => {
  it('round-trips a tickwork error through a real MessageChannel as an instance of its class', async () => {
    const original = new TimeoutError('read of sys/tg/1/temp timed out', 250, {
      cause: new RangeError('inner'),
    });
    Object.assign(original, { key: 'sys/tg/1/temp', attempt: 3 });
    const data = await viaMessageChannel(serializeError(original));
    expect(isSerializedError(data)).toBe(true);
    const rebuilt = deserializeError(data) as TimeoutError & { key: string; attempt: number };
    expect(rebuilt).toBeInstanceOf(TimeoutError);
    expect(rebuilt.name).toBe('TimeoutError');
    expect(rebuilt.message).toBe(original.message);
    expect(rebuilt.stack).toBe(original.stack);
    expect(rebuilt.code).toBe('ERR_TIMEOUT');
    expect(rebuilt.timeoutMs).toBe(250);
    expect(rebuilt.key).toBe('sys/tg/1/temp');
    expect(rebuilt.attempt).toBe(3);
    expect(rebuilt.cause).toBeInstanceOf(RangeError);
    expect((rebuilt.cause as Error).message).toBe('inner');
  });

  it('round-trips through structuredClone, keeping custom names and codes of foreign errors', () => {
    class DeviceError extends Error {
      override name = 'DeviceError';
      code = 'EDEVICE';
      device = 'ps/1';
    }
    const rebuilt = deserializeError(structuredClone(serializeError(new DeviceError('no reply'))));
    expect(rebuilt).toBeInstanceOf(Error);
    expect(rebuilt.name).toBe('DeviceError');
    expect(rebuilt.message).toBe('no reply');
    expect((rebuilt as Error & { code: string }).code).toBe('EDEVICE');
    expect((rebuilt as Error & { device: string }).device).toBe('ps/1');
  });

  it('keeps a cause chain, cuts cycles and makes uncloneable properties strings', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as Error & { cause: unknown }).cause = b; // a cycle
    Object.assign(b, { fn: () => 1 });
    const data = structuredClone(serializeError(b));
    const rebuilt = deserializeError(data);
    expect((rebuilt.cause as Error).message).toBe('a');
    expect(((rebuilt.cause as Error).cause as string).toString()).toBe('[Error: b]');
    expect(typeof (rebuilt as Error & { fn: unknown }).fn).toBe('string');
  });

  it('wraps thrown non-errors', () => {
    const rebuilt = deserializeError(structuredClone(serializeError({ reason: 'nope' })));
    expect(rebuilt).toBeInstanceOf(Error);
    expect(rebuilt.message).toBe('[object Object]');
    expect((rebuilt as Error & { thrown: unknown }).thrown).toEqual({ reason: 'nope' });
    expect(deserializeError(serializeError('text')).message).toBe('text');
  });
});
