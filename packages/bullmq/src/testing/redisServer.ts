import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createConnection, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Path of the `redis-server` binary. @defaultValue `redis-server` on the `PATH` */
  binary?: string;
  /** How long to wait for the server to answer `PING`, ms. @defaultValue 10000 */
  readyTimeoutMs?: number;
}

/** A `redis-server` started for a test by {@link startRedisServer}. */
export interface RedisServer {
  /** Loopback host it listens on (`127.0.0.1`). */
  readonly host: string;
  /** Port it listens on. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and resolves once it exited. */
  stop(): Promise<void>;
  /**
   * Stops the server, then starts a new one on the same port (empty: there is
   * no persistence) and resolves once it answers `PING`. For tests of clients
   * that must survive a Redis restart.
   */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';

/** A port free on the loopback interface right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline `PING` and resolves whether `+PONG` came back. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      answer += chunk.toString('utf8');
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts a throw-away `redis-server` on a free loopback port, without
 * persistence (`--save '' --appendonly no`), and resolves once it answers
 * `PING`. Fails (never skips) when the binary is missing, saying how to
 * install it.
 *
 * @example
 * ```ts
 * const redis = await startRedisServer();
 * // ... new ClusterCronTab({ connection: { host: redis.host, port: redis.port } })
 * await redis.stop();
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = options.binary ?? 'redis-server';
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `startRedisServer: "${binary}" is not available (${probe.error?.message ?? `exit ${probe.status}`}); ` +
        'install it with `apt-get update && apt-get install -y redis-server`',
    );
  }
  const port = await freePort();
  let current = await spawnRedis(binary, port, readyTimeoutMs);
  return {
    host: HOST,
    port,
    url: `redis://${HOST}:${port}`,
    stop: () => current.stop(),
    async restart() {
      await current.stop();
      current = await spawnRedis(binary, port, readyTimeoutMs);
    },
  };
}

/** Starts redis-server on `port` and resolves once it answers PING. */
async function spawnRedis(
  binary: string,
  port: number,
  readyTimeoutMs: number,
): Promise<{ stop(): Promise<void> }> {
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  // A test (or benchmark) that exits without stop() leaves no server behind.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited(child);
    clearTimeout(killer);
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      throw new Error(
        `startRedisServer: redis-server exited with code ${child.exitCode} on port ${port}:\n${output}`,
      );
    }
    if (await ping(port)) break;
    if (Date.now() >= deadline) {
      await stop();
      throw new Error(
        `startRedisServer: redis-server did not answer PING on ${HOST}:${port} within ${readyTimeoutMs} ms (${attempt + 1} tries):\n${output}`,
      );
    }
    await sleep(Math.min(10 * 2 ** attempt, 200));
  }
  return { stop };
}
