import { KeyNotFoundError, type ScheduledTimer } from '@tickwork/core';
import type { KeyState } from './keyState.js';
import { BatchReadContext } from './readContext.js';
import type { ReadFailure } from './readFailure.js';
import type { ReadManyResult } from './threadDictOptions.js';

/**
 * One `readMany` call: the keys of one period that fell due in the same
 * scheduler tick. It holds one concurrency slot and one timeout for all of them.
 * @internal
 */
export class ReadBatch<V> {
  readonly states: KeyState<V>[];
  readonly keys: string[];
  readonly ctx = new BatchReadContext();
  timer: ScheduledTimer | null = null;
  /** Settled (completed, failed, timed out or abandoned): later outcomes are ignored. */
  done = false;

  constructor(states: KeyState<V>[]) {
    this.states = states;
    this.keys = states.map((s) => s.key);
  }

  /** Shortest read timeout among the batch's keys, ms. */
  timeoutMs(): number {
    let t = Number.POSITIVE_INFINITY;
    for (const s of this.states) if (s.timeoutMs < t) t = s.timeoutMs;
    return t;
  }
}

/** A key `readMany` gave no value for. @internal */
export const MISSING: unique symbol = Symbol('missing');

/**
 * The value for `key` (at `index` in the batch) in a `readMany` result, or
 * {@link MISSING}.
 * @internal
 */
export function pickResult<V>(
  result: ReadManyResult<V>,
  key: string,
  index: number,
): V | ReadFailure | typeof MISSING {
  if (Array.isArray(result))
    return index < result.length ? (result[index] as V | ReadFailure) : MISSING;
  const map = result as ReadonlyMap<string, V | ReadFailure>;
  if (typeof map.has === 'function' && map.has(key)) return map.get(key) as V | ReadFailure;
  return MISSING;
}

/** The error of a key `readMany` gave no value for. @internal */
export function missingError(component: string, key: string): KeyNotFoundError {
  return new KeyNotFoundError(key, `${component}: readMany returned no value for ${key}`);
}
