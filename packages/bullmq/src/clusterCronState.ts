import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { quitRedis, type RedisConnectionOptions } from './redisConnection.js';

/**
 * @internal what a node may do with a slot, decided atomically in Redis:
 * `run` it, or not because the job is `paused`, `done` (maxRuns reached),
 * `busy` (its previous run holds the lock) or `queued` (wait and ask again).
 */
export type ClaimOutcome = 'run' | 'paused' | 'done' | 'busy' | 'queued';

/** @internal how a claim should treat a held lock */
export type ClaimMode = 'skip' | 'queue' | 'parallel';

/** @internal the cluster-wide state of the jobs as read in one round trip */
export interface ClusterCronSnapshot {
  /** Id of the Redis dataset: a new one means Redis lost its data. */
  readonly dataset: string;
  readonly paused: ReadonlySet<string>;
  readonly runs: ReadonlyMap<string, number>;
}

// Creates the dataset id on first use: a Redis restarted empty has none, so
// the id a node sees changes exactly when the data it wrote is gone.
const READ = `
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return { redis.call('GET', KEYS[1]), redis.call('HKEYS', KEYS[2]), redis.call('HGETALL', KEYS[3]) }`;

// KEYS: paused, runs, counted, lock, queued.
// ARGV: name, token, ttl ms, maxRuns (0: none), mode, slot ms, respect pause.
// The run counter counts each slot once (redeliveries of a counted slot do
// not count again); the lock is re-entrant for the same token (a slot
// redelivered after its node died takes its own lock back).
const CLAIM = `
local name, token, ttl, maxRuns, mode = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
if ARGV[7] == '1' and redis.call('HEXISTS', KEYS[1], name) == 1 then return { 'paused', 0 } end
local runs = tonumber(redis.call('HGET', KEYS[2], name) or '0')
local counted = redis.call('ZSCORE', KEYS[3], token)
if not counted and maxRuns > 0 and runs >= maxRuns then return { 'done', runs } end
if mode ~= 'parallel' then
  local holder = redis.call('GET', KEYS[4])
  local queued = redis.call('GET', KEYS[5])
  if (holder and holder ~= token) or (queued and queued ~= token) then
    if mode == 'queue' and (not queued or queued == token) then
      redis.call('SET', KEYS[5], token, 'PX', ttl)
      return { 'queued', runs }
    end
    return { 'busy', runs }
  end
  redis.call('SET', KEYS[4], token, 'PX', ttl)
  if queued == token then redis.call('DEL', KEYS[5]) end
end
if not counted then
  runs = redis.call('HINCRBY', KEYS[2], name, 1)
  redis.call('ZADD', KEYS[3], ARGV[6], token)
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -65)
end
return { 'run', runs }`;

// KEYS: lock. ARGV: token, ttl ms. Takes a free lock or extends one's own
// (so renewing also takes the lock back after Redis lost it).
const LOCK = `
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

// KEYS: lock, queued. ARGV: token.
const RELEASE = `
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 0`;

// KEYS: paused, runs. ARGV: n paused names, the names, then name/count pairs.
// Counts are raised, never lowered: several nodes restore what they last read.
const RESTORE = `
local n = tonumber(ARGV[1])
for i = 2, n + 1 do redis.call('HSET', KEYS[1], ARGV[i], '1') end
for i = n + 2, #ARGV, 2 do
  local current = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')
  if tonumber(ARGV[i + 1]) > current then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
end
return 0`;

/**
 * @internal The part of a cluster crontab's state BullMQ does not hold, in
 * Redis next to the queue (`<prefix>:<queue>:tickwork:*`): pause flags, run
 * counts, the per-job overrun lock, and a dataset id telling the nodes when
 * Redis lost everything. It has its own connection, so its `ready` event says
 * when Redis is back.
 */
export class ClusterCronState {
  /** The state's own connection. */
  readonly client: Redis;
  private readonly base: string;

  constructor(connection: RedisConnectionOptions, prefix: string | undefined, queueName: string) {
    this.client = new Redis({ ...connection });
    this.base = `${prefix ?? 'bull'}:${queueName}:tickwork`;
  }

  /** Dataset id, paused jobs and run counts, in one round trip. */
  async read(): Promise<ClusterCronSnapshot> {
    const [dataset, paused, flat] = (await this.client.eval(
      READ,
      3,
      this.key('dataset'),
      this.key('paused'),
      this.key('runs'),
      randomUUID(),
    )) as [string, string[], string[]];
    const runs = new Map<string, number>();
    for (let i = 0; i + 1 < flat.length; i += 2) runs.set(flat[i]!, Number(flat[i + 1]));
    return { dataset, paused: new Set(paused), runs };
  }

  /** Sets or clears the pause flag of jobs. */
  async setPaused(names: readonly string[], paused: boolean): Promise<void> {
    if (names.length === 0) return;
    if (paused) {
      await this.client.hset(this.key('paused'), ...names.flatMap((name) => [name, '1']));
    } else {
      await this.client.hdel(this.key('paused'), ...names);
    }
  }

  /** A job's scheduled runs across the cluster and its pause flag. */
  async job(name: string): Promise<{ runs: number; paused: boolean }> {
    const [runs, paused] = await Promise.all([
      this.client.hget(this.key('runs'), name),
      this.client.hexists(this.key('paused'), name),
    ]);
    return { runs: Number(runs ?? 0), paused: paused === 1 };
  }

  /** Decides atomically whether a slot runs (see {@link ClaimOutcome}) and counts it. */
  async claim(
    name: string,
    token: string,
    slot: number,
    options: { ttlMs: number; maxRuns: number; mode: ClaimMode; respectPause: boolean },
  ): Promise<{ outcome: ClaimOutcome; runs: number }> {
    const [outcome, runs] = (await this.client.eval(
      CLAIM,
      5,
      this.key('paused'),
      this.key('runs'),
      this.key(`counted:${name}`),
      this.key(`lock:${name}`),
      this.key(`queued:${name}`),
      name,
      token,
      String(options.ttlMs),
      String(Number.isFinite(options.maxRuns) ? options.maxRuns : 0),
      options.mode,
      String(slot),
      options.respectPause ? '1' : '0',
    )) as [ClaimOutcome, number];
    return { outcome, runs: Number(runs) };
  }

  /**
   * Takes the job's lock if free, or extends it if `token` holds it (used to
   * renew it as well); resolves whether `token` holds it.
   */
  async lock(name: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.client.eval(LOCK, 1, this.key(`lock:${name}`), token, ttlMs)) === 1;
  }

  /** Frees the job's lock and queue place if `token` holds them. */
  async release(name: string, token: string): Promise<void> {
    await this.client.eval(RELEASE, 2, this.key(`lock:${name}`), this.key(`queued:${name}`), token);
  }

  /** Writes back pause flags and run counts a node remembers, after Redis lost them. */
  async restore(paused: readonly string[], runs: ReadonlyMap<string, number>): Promise<void> {
    const pairs = [...runs].filter(([, n]) => n > 0).flatMap(([name, n]) => [name, String(n)]);
    await this.client.eval(
      RESTORE,
      2,
      this.key('paused'),
      this.key('runs'),
      String(paused.length),
      ...paused,
      ...pairs,
    );
  }

  /** Drops everything kept about a job (it was removed from the cluster). */
  async forget(name: string): Promise<void> {
    await this.client
      .multi()
      .hdel(this.key('paused'), name)
      .hdel(this.key('runs'), name)
      .del(this.key(`counted:${name}`), this.key(`lock:${name}`), this.key(`queued:${name}`))
      .exec();
  }

  /** Closes the connection. */
  close(): Promise<void> {
    return quitRedis(this.client);
  }

  private key(suffix: string): string {
    return `${this.base}:${suffix}`;
  }
}
