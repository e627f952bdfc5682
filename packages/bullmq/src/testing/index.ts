/**
 * Test helpers of `@tickwork/bullmq`: a throw-away `redis-server` per test file.
 *
 * @packageDocumentation
 * @module @tickwork/bullmq/testing
 */
export type { RedisServer, RedisServerOptions } from './redisServer.js';
export { startRedisServer } from './redisServer.js';
