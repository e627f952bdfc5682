import { ConfigError, checkOptions } from '@tickwork/core';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * How to reach Redis: ioredis options (`host`, `port`, `password`, `db`,
 * `tls`, ...). Always options, never a shared client: every BullMQ `Queue`,
 * `Worker` and `QueueEvents` opens its own connection from them, and the
 * blocking ones get `maxRetriesPerRequest: null` as BullMQ requires.
 */
export type RedisConnectionOptions = RedisOptions;

/** @internal connection options for a BullMQ Worker or QueueEvents (blocking commands). */
export function blockingConnection(options: RedisConnectionOptions): RedisOptions {
  return { ...options, maxRetriesPerRequest: null };
}

/** @internal validates the required `options.connection` of a component */
export function checkConnection(component: string, value: unknown): RedisConnectionOptions {
  if (value === undefined) {
    throw new ConfigError(`${component}: options.connection is required`, 'options.connection');
  }
  return checkOptions(component, 'options.connection', value as RedisConnectionOptions);
}

/**
 * @internal closes a connection of ours: QUIT when connected, else (or if
 * QUIT fails) drops it. QUIT on a connection that is down would wait for it
 * to come back; dropping it also ends its reconnect loop.
 */
export async function quitRedis(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // fall through to disconnect
    }
  }
  client.disconnect();
}
