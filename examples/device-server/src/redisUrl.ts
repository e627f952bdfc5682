/**
 * `--redis <url>`: a `redis://` URL to the ioredis options the cluster
 * components take.
 * @module
 */
import type { RedisConnectionOptions } from '@tickwork/bullmq';
import { ConfigError } from '@tickwork/core';

const EXAMPLE = 'redis://127.0.0.1:6379';

/**
 * Parses `redis://[[user]:password@]host[:port][/db]` (or `rediss://` for
 * TLS) into ioredis options: `host`, `port` (default 6379), `username`,
 * `password` (percent-decoded), `db`, `tls`.
 *
 * @throws ConfigError (path `redis`) naming what is wrong: not a URL, another
 *   scheme, no host, a database that is not an integer, query or fragment
 */
export function parseRedisUrl(text: string): RedisConnectionOptions {
  const bad = (why: string): ConfigError =>
    new ConfigError(`--redis ${why} (got ${JSON.stringify(text)})`, 'redis');
  let url: URL;
  try {
    url = new URL(text);
  } catch (error) {
    throw new ConfigError(
      `--redis must be a URL like ${EXAMPLE} (got ${JSON.stringify(text)})`,
      'redis',
      { cause: error },
    );
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw bad(`must be a redis:// or rediss:// URL like ${EXAMPLE}`);
  }
  // IPv6 literals come bracketed from URL; ioredis wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw bad(`needs a host, as in ${EXAMPLE}`);
  if (url.search !== '' || url.hash !== '') {
    throw bad('takes no query or fragment (host, port, password and database only)');
  }
  const options: RedisConnectionOptions = { host, port: url.port === '' ? 6379 : Number(url.port) };
  if (url.username !== '') options.username = decodeURIComponent(url.username);
  if (url.password !== '') options.password = decodeURIComponent(url.password);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '') {
    if (!/^\d{1,5}$/.test(path)) throw bad('database must be a number, as in redis://host:6379/0');
    options.db = Number(path);
  }
  if (url.protocol === 'rediss:') options.tls = {};
  return options;
}

/** Where `options` points, for the terminal: `redis://host:port[/db]`, never the password. */
export function redisLabel(options: RedisConnectionOptions): string {
  const host = options.host ?? '127.0.0.1';
  const shown = host.includes(':') ? `[${host}]` : host;
  const scheme = options.tls === undefined ? 'redis' : 'rediss';
  const db = options.db === undefined || options.db === 0 ? '' : `/${options.db}`;
  return `${scheme}://${shown}:${options.port ?? 6379}${db}`;
}
