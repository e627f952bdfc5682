import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '@tickwork/core';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** An IP literal or `localhost` that can only be reached from this machine. @internal */
export function isLoopbackHost(host: string): boolean {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  // IPv4-mapped IPv6 (`::ffff:127.0.0.1`) is how dual-stack sockets report IPv4 peers.
  if (h.startsWith('::ffff:') && isIPv4(h.slice(7))) h = h.slice(7);
  if (isIPv4(h)) return loopback.check(h, 'ipv4');
  if (isIPv6(h)) return loopback.check(h, 'ipv6');
  return false;
}

/** The host part of a `Host` header (`name`, `name:port`, `[v6]:port`). @internal */
export function hostOfHeader(header: string): string {
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end === -1 ? header : header.slice(0, end + 1);
  }
  const colon = header.lastIndexOf(':');
  return colon === -1 ? header : header.slice(0, colon);
}

/** RFC 6750 `b64token`: what may follow `Bearer ` without quoting. */
const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Shortest token accepted: guessing 16 random characters over the network is hopeless. */
export const MIN_TOKEN_LENGTH = 16;

/** Validates a bearer token option. @internal */
export function checkToken(component: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < MIN_TOKEN_LENGTH || !TOKEN_SYNTAX.test(value)) {
    throw new ConfigError(
      `${component}: options.token must be at least ${MIN_TOKEN_LENGTH} characters of A-Z a-z 0-9 - . _ ~ + / (e.g. \`openssl rand -hex 32\`)`,
      'options.token',
    );
  }
  return value;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A check of `Authorization: Bearer <token>` headers in constant time:
 * both sides are hashed first, so neither the content nor the length of the
 * expected token leaks through timing.
 * @internal
 */
export function bearerCheck(token: string): (header: string | undefined) => boolean {
  const expected = digest(token);
  return (header) => {
    if (header === undefined) return false;
    // The scheme is case-insensitive (RFC 7235); one token, optional spaces around.
    const match = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return false;
    return timingSafeEqual(digest(match[1]!), expected);
  };
}
