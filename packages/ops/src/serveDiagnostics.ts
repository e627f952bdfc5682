import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  type Clock,
  ConfigError,
  checkInteger,
  checkOptions,
  checkString,
  globalRegistry,
  type Logger,
  type Registry,
  silentLogger,
} from '@tickwork/core';
import type { Registry as PromRegistry, RegistryContentType } from 'prom-client';
import { DASHBOARD_CSP, DASHBOARD_HTML } from './dashboardPage.js';
import { bearerCheck, checkToken, hostOfHeader, isLoopbackHost } from './httpAccess.js';
import { metrics } from './metrics.js';
import { snapshot } from './snapshot.js';

const KIND = 'serveDiagnostics';

/** Options of {@link serveDiagnostics}. */
export interface ServeDiagnosticsOptions {
  /** TCP port; 0 picks a free one (read it from {@link DiagnosticsServer.port}). */
  port: number;
  /**
   * Interface to bind. Anything but a loopback address (`127.0.0.0/8`, `::1`,
   * `localhost`) requires {@link ServeDiagnosticsOptions.token}.
   * @defaultValue `'127.0.0.1'`
   */
  host?: string;
  /**
   * Bearer token required on `GET /metrics` and `GET /diagnostics`
   * (`Authorization: Bearer <token>`), compared in constant time. At least 16
   * characters of the RFC 6750 token alphabet (`openssl rand -hex 32` makes
   * one). Without it, the server only binds loopback and only answers
   * requests whose `Host` header is a loopback name (DNS-rebinding guard).
   * @defaultValue none
   */
  token?: string;
  /** The components to report. @defaultValue `globalRegistry` */
  registry?: Registry;
  /**
   * The prom-client registry served at `/metrics`, e.g. one the application
   * already registered its own metrics in.
   * @defaultValue `metrics(registry, { clock })`
   */
  metrics?: PromRegistry<RegistryContentType>;
  /** Clock for `takenAt` and ages; see {@link SnapshotOptions.clock}. @defaultValue `systemClock` */
  clock?: Clock;
  /** Receives requests that failed inside the server (500s). @defaultValue silent */
  logger?: Logger;
}

/** A running diagnostics server. */
export interface DiagnosticsServer extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:9464/`: the dashboard; add `metrics` or `diagnostics`. */
  readonly url: string;
  /** The interface bound, as given. */
  readonly host: string;
  /** The port bound (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops accepting, closes open connections, and resolves once closed. Idempotent. */
  close(): Promise<void>;
}

type Route = 'dashboard' | 'metrics' | 'diagnostics';
const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['/', 'dashboard'],
  ['/metrics', 'metrics'],
  ['/diagnostics', 'diagnostics'],
]);
const ALLOW = 'GET, HEAD';

const BASE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    ...BASE_HEADERS,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  // Node leaves the body out of HEAD responses by itself.
  res.end(body);
}

function pathOf(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '', 'http://localhost').pathname;
  } catch {
    return undefined;
  }
}

function formatUrl(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

function listen(
  server: ReturnType<typeof createServer>,
  port: number,
  host: string,
): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

/**
 * Serves diagnostics over HTTP on Node's `http` module, read-only:
 * - `GET /metrics` — Prometheus text format (see {@link metrics});
 * - `GET /diagnostics` — the JSON {@link DiagnosticsSnapshot};
 * - `GET /` — a live dashboard page (every component and key: period, age,
 *   lateness, usage, errors, last error; sortable and filterable; refreshed
 *   every second). It holds no data itself, so it is served without the
 *   token; it asks for the token (or takes it from `#token=...`) to fetch
 *   `/diagnostics`.
 *
 * `HEAD` works wherever `GET` does; other methods get 405 with `Allow`, other
 * paths 404, malformed requests 400. Nothing is ever read from disk.
 *
 * @example
 * ```ts
 * const server = await serveDiagnostics({ port: 9464 });
 * // open server.url; scrape `${server.url}metrics`
 * await server.close();
 * ```
 *
 * @param options - see {@link ServeDiagnosticsOptions}
 * @throws ConfigError on a bad option, or when binding a non-loopback host without a token
 */
export async function serveDiagnostics(
  options: ServeDiagnosticsOptions,
): Promise<DiagnosticsServer> {
  const o = checkOptions(KIND, 'options', options);
  const port = checkInteger(KIND, 'options.port', o.port, { min: 0, max: 65535 });
  const host = checkString(KIND, 'options.host', o.host ?? '127.0.0.1');
  const token = o.token === undefined ? undefined : checkToken(KIND, o.token);
  if (token === undefined && !isLoopbackHost(host)) {
    throw new ConfigError(
      `${KIND}: options.host ${JSON.stringify(host)} is not a loopback address; pass options.token to serve it beyond this machine`,
      'options.host',
    );
  }
  const registry = o.registry ?? globalRegistry;
  const clock = o.clock;
  const logger = o.logger ?? silentLogger;
  const promRegistry = o.metrics ?? metrics(registry, clock === undefined ? {} : { clock });
  const authorized = token === undefined ? () => true : bearerCheck(token);

  async function respond(route: Route, res: ServerResponse): Promise<void> {
    if (route === 'dashboard') {
      send(res, 200, DASHBOARD_HTML, {
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': DASHBOARD_CSP,
        'Referrer-Policy': 'no-referrer',
        'X-Frame-Options': 'DENY',
      });
    } else if (route === 'metrics') {
      const text = await promRegistry.metrics();
      send(res, 200, text, { 'Content-Type': promRegistry.contentType });
    } else {
      const doc = snapshot(registry, clock === undefined ? {} : { clock });
      send(res, 200, JSON.stringify(doc), { 'Content-Type': 'application/json; charset=utf-8' });
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Bodies are never read; drain them so keep-alive connections stay usable.
    req.resume();
    if (token === undefined) {
      const hostHeader = req.headers.host;
      // A DNS-rebinding page reaches a loopback port under its own host name.
      if (hostHeader !== undefined && !isLoopbackHost(hostOfHeader(hostHeader))) {
        send(res, 403, 'Forbidden: Host must be a loopback name when no token is set\n');
        return;
      }
    }
    const path = pathOf(req.url);
    if (path === undefined) return send(res, 400, 'Bad Request\n');
    const route = ROUTES.get(path);
    if (route === undefined) return send(res, 404, 'Not Found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return send(res, 405, 'Method Not Allowed\n', { Allow: ALLOW });
    }
    if (route !== 'dashboard' && !authorized(req.headers.authorization)) {
      return send(res, 401, 'Unauthorized\n', { 'WWW-Authenticate': 'Bearer realm="tickwork"' });
    }
    await respond(route, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger.error({ err: error, url: req.url }, 'diagnostics request failed');
      if (!res.headersSent) send(res, 500, 'Internal Server Error\n');
      else res.destroy();
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large'
        : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  const address = await listen(server, port, host);
  if (token === undefined && !isLoopbackHost(address.address)) {
    // `localhost` resolved to something else: refuse rather than expose.
    server.close();
    throw new ConfigError(
      `${KIND}: ${JSON.stringify(host)} resolved to ${address.address}, not a loopback address; pass options.token`,
      'options.host',
    );
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Keep-alive connections (browsers, scrapers) would hold close() open.
      server.closeAllConnections();
    });
    return closing;
  };
  return {
    url: formatUrl(host, address.port),
    host,
    port: address.port,
    close,
    [Symbol.asyncDispose]: close,
  };
}
