import { checkInteger, checkString } from '@tickwork/core';

/** Most shards a `ClusterThreadDict` may have (one BullMQ job scheduler each). */
export const MAX_SHARDS = 1024;

/**
 * The shard of `key` among `shards`: FNV-1a (32 bit) over the key's UTF-16
 * code units, modulo `shards`. Pure and the same on every node and Node
 * version, so every node of a `ClusterThreadDict` agrees on which shard (and
 * so which lease) polls a key.
 *
 * @example
 * ```ts
 * shardOf('sys/tg/1/temperature', 16); // a number from 0 to 15, the same everywhere
 * ```
 * @throws ConfigError for an empty key or a shard count outside 1..1024
 */
export function shardOf(key: string, shards: number): number {
  checkString('shardOf', 'key', key);
  checkInteger('shardOf', 'shards', shards, { min: 1, max: MAX_SHARDS });
  return hashKey(key) % shards;
}

/** @internal FNV-1a 32-bit of the key's code units, unsigned; unchecked (hot path). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
