import { afterAll, beforeAll } from 'vitest';
import { type RedisServer, startRedisServer } from '../../testing/redisServer.js';

/** The `redis-server` of a test file, as {@link useRedisServer} returns it. */
export interface RedisServerFixture {
  /** The running server (`port`, `url`, `restart()`, ...). Throws before `beforeAll` started it. */
  readonly server: RedisServer;
  /** Its `{ host, port }`, as BullMQ and ioredis take it. Throws before `beforeAll` started it. */
  readonly connection: { host: string; port: number };
}

/**
 * Starts a throw-away `redis-server` in `beforeAll` and stops it in `afterAll`
 * of the calling test file. Call it once at the top of the file; read the
 * fixture inside tests and hooks only, since it is empty while the file is
 * being collected. `afterAll` hooks the file registers after this call run
 * before the server stops (Vitest runs `afterAll` hooks in reverse order).
 *
 * @example
 * ```ts
 * const redis = useRedisServer();
 * it('...', () => new Queue('q', { connection: redis.connection }));
 * ```
 */
export function useRedisServer(): RedisServerFixture {
  let started: { server: RedisServer; connection: { host: string; port: number } } | undefined;
  beforeAll(async () => {
    const server = await startRedisServer();
    // One connection object for the whole file, as each file had before.
    started = { server, connection: { host: server.host, port: server.port } };
  });
  afterAll(async () => {
    await started?.server.stop();
  });
  const running = (): NonNullable<typeof started> => {
    if (started === undefined) {
      throw new Error(
        'useRedisServer: the redis-server is not started yet; read it in a test or hook, not at collection time',
      );
    }
    return started;
  };
  return {
    get server() {
      return running().server;
    },
    get connection() {
      return running().connection;
    },
  };
}
