import { connect } from 'node:net';
import { ConfigError, type Logger, Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { Gauge, Registry as PromRegistry } from 'prom-client';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { DiagnosticsSnapshot } from '../diagnosticsSnapshot.js';
import { type DiagnosticsServer, serveDiagnostics } from '../serveDiagnostics.js';
import { FixtureComponent, knownComponents, T0 } from './fixtures.js';

const TOKEN = 'c2VjcmV0LXRva2VuLWZvci10ZXN0cw==';
const open: DiagnosticsServer[] = [];

async function serve(options: Partial<Parameters<typeof serveDiagnostics>[0]> = {}) {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  knownComponents(registry, clock);
  const server = await serveDiagnostics({ port: 0, registry, clock, ...options });
  open.push(server);
  return { server, registry, clock };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** Sends `text` as is on a fresh connection and resolves with everything the server sent back. */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    socket.on('end', () => resolve(received));
    socket.on('error', reject);
    socket.write(text);
  });
}

function get(port: number, path: string, headers: Record<string, string> = {}): Promise<string> {
  const lines = Object.entries({ Host: `127.0.0.1:${port}`, Connection: 'close', ...headers }).map(
    ([k, v]) => `${k}: ${v}\r\n`,
  );
  return raw(port, `GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`);
}

const statusOf = (response: string) => response.slice(0, response.indexOf('\r\n'));

describe('serveDiagnostics', () => {
  test('serves the dashboard, Prometheus text and the JSON snapshot on loopback', async () => {
    const { server } = await serve();
    expect(server.host).toBe('127.0.0.1');
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);

    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/,
    );
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toContain('<table id="items">');

    const prom = await fetch(`${server.url}metrics`);
    expect(prom.status).toBe(200);
    expect(prom.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await prom.text();
    expect(text).toContain(
      'tickwork_polls_total{component="plant",kind="ThreadDict",result="error"} 4',
    );
    expect(text).toContain('nodejs_eventloop_lag_seconds');

    const diag = await fetch(`${server.url}diagnostics?pretty=no`);
    expect(diag.status).toBe(200);
    expect(diag.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const doc = (await diag.json()) as DiagnosticsSnapshot;
    expect(doc.schema).toBe('tickwork.diagnostics/v1');
    expect(doc.takenAt).toBe(T0);
    expect(doc.components.map((c) => c.name)).toEqual([
      'plant',
      'heartbeat',
      'analysis',
      'snapshots',
      'bridge',
    ]);
  });

  test('answers HEAD like GET without a body', async () => {
    const { server } = await serve();
    const res = await fetch(`${server.url}metrics`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await res.text()).toBe('');
  });

  test('other paths are 404, other methods 405 with Allow', async () => {
    const { server } = await serve();
    for (const path of ['nope', 'metrics/', 'index.html', 'diagnostics.json']) {
      const res = await fetch(`${server.url}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
    // Traversal goes nowhere: nothing is read from disk.
    expect(statusOf(await get(server.port, '/../../etc/passwd'))).toBe('HTTP/1.1 404 Not Found');
    expect(statusOf(await get(server.port, '/%2e%2e/package.json'))).toBe('HTTP/1.1 404 Not Found');
    for (const [method, path] of [
      ['POST', 'metrics'],
      ['PUT', 'diagnostics'],
      ['DELETE', ''],
      ['OPTIONS', 'metrics'],
    ] as const) {
      const res = await fetch(`${server.url}${path}`, { method });
      expect(res.status, `${method} /${path}`).toBe(405);
      expect(res.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  test('answers malformed requests with 400 and keeps serving', async () => {
    const { server } = await serve();
    expect(statusOf(await raw(server.port, 'GARBAGE\r\n\r\n'))).toBe('HTTP/1.1 400 Bad Request');
    expect(statusOf(await raw(server.port, 'GET / HTTP/1.1\r\nBad Header Line\r\n\r\n'))).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    expect(statusOf(await get(server.port, 'http://[bad/metrics'))).toBe(
      'HTTP/1.1 400 Bad Request',
    );
    const huge = await raw(
      server.port,
      `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
    );
    expect(statusOf(huge)).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect((await fetch(`${server.url}metrics`)).status).toBe(200);
  });

  test('without a token, answers only requests addressed to a loopback host name', async () => {
    const { server } = await serve();
    // What a DNS-rebinding page's requests look like.
    const rebound = await get(server.port, '/diagnostics', { Host: `evil.example:${server.port}` });
    expect(statusOf(rebound)).toBe('HTTP/1.1 403 Forbidden');
    expect(rebound).not.toContain('tickwork.diagnostics/v1');
    for (const host of [`localhost:${server.port}`, `[::1]:${server.port}`, '127.0.0.1']) {
      expect(statusOf(await get(server.port, '/diagnostics', { Host: host })), host).toBe(
        'HTTP/1.1 200 OK',
      );
    }
  });

  test('with a token, requires `Authorization: Bearer` on the data endpoints', async () => {
    const { server } = await serve({ token: TOKEN });
    for (const path of ['metrics', 'diagnostics']) {
      const none = await fetch(`${server.url}${path}`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Bearer realm="tickwork"');
      expect(await none.text()).toBe('Unauthorized\n');
      for (const authorization of [
        `Bearer ${TOKEN}x`,
        `Bearer ${TOKEN.slice(1)}`,
        'Bearer ',
        `Basic ${TOKEN}`,
        `Bearer ${TOKEN} extra`,
        TOKEN,
      ]) {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization } });
        expect(res.status, authorization).toBe(401);
      }
      for (const authorization of [`Bearer ${TOKEN}`, `bearer ${TOKEN}`, `BEARER  ${TOKEN} `]) {
        const res = await fetch(`${server.url}${path}`, { headers: { authorization } });
        expect(res.status, authorization).toBe(200);
      }
    }
    // The page itself holds no data; it asks for the token before fetching any.
    expect((await fetch(server.url)).status).toBe(200);
  });

  test('refuses to bind beyond loopback without a token', async () => {
    const registry = new Registry();
    for (const host of ['0.0.0.0', '::', '192.0.2.1', 'example.com']) {
      await expect(serveDiagnostics({ port: 0, host, registry }), host).rejects.toThrow(
        ConfigError,
      );
    }
    await expect(serveDiagnostics({ port: 0, host: '0.0.0.0', registry })).rejects.toThrow(
      'serveDiagnostics: options.host "0.0.0.0" is not a loopback address; pass options.token to serve it beyond this machine',
    );
    // With a token it binds, and the token guards the data.
    const server = await serveDiagnostics({ port: 0, host: '0.0.0.0', token: TOKEN, registry });
    open.push(server);
    expect(server.url).toBe(`http://0.0.0.0:${server.port}/`);
    const base = `http://127.0.0.1:${server.port}/`;
    expect((await fetch(`${base}diagnostics`)).status).toBe(401);
    const ok = await fetch(`${base}diagnostics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(200);
  });

  test('binds other loopback forms without a token', async () => {
    const registry = new Registry();
    for (const host of ['localhost', '127.0.0.2']) {
      const server = await serveDiagnostics({ port: 0, host, registry });
      open.push(server);
      expect(server.url).toBe(`http://${host}:${server.port}/`);
    }
  });

  test('rejects bad options with ConfigError', async () => {
    const registry = new Registry();
    const bad: Array<[object, string]> = [
      [{ port: -1 }, 'serveDiagnostics: options.port must be an integer from 0 to 65535 (got -1)'],
      [{ port: 70_000 }, 'options.port'],
      [{ port: '9464' }, 'options.port'],
      [{}, 'options.port'],
      [{ port: 0, host: '' }, 'options.host must be a non-empty string'],
      [{ port: 0, token: 'short' }, 'options.token must be at least 16 characters'],
      [{ port: 0, token: 'has spaces in it, sixteen+' }, 'options.token'],
      [{ port: 0, token: 1234567890123456 }, 'options.token'],
    ];
    for (const [options, message] of bad) {
      await expect(
        serveDiagnostics({ registry, ...options } as never),
        JSON.stringify(options),
      ).rejects.toThrow(message);
    }
    await expect(serveDiagnostics(undefined as never)).rejects.toThrow(ConfigError);
  });

  test('answers 500 when a component fails to report, logs it, and keeps serving', async () => {
    const errors: unknown[] = [];
    const logger: Logger = {
      debug: () => {},
      info: () => {},
      warn: () => {},
      error: (o) => errors.push(o),
    };
    const { server, registry } = await serve({ logger });
    const broken = new FixtureComponent('Broken', { name: 'broken', registry });
    vi.spyOn(broken, 'diagnostics').mockImplementation(() => {
      throw new Error('diagnostics exploded');
    });
    const res = await fetch(`${server.url}diagnostics`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe('Internal Server Error\n');
    expect(errors).toHaveLength(1);
    expect((await fetch(`${server.url}metrics`)).status).toBe(500);
    await broken.kill();
    expect((await fetch(`${server.url}diagnostics`)).status).toBe(200);
  });

  test('serves a given prom-client registry at /metrics', async () => {
    const prom = new PromRegistry();
    new Gauge({ name: 'app_widgets', help: 'Widgets.', registers: [prom] }).set(7);
    const { server } = await serve({ metrics: prom });
    expect(await (await fetch(`${server.url}metrics`)).text()).toBe(
      '# HELP app_widgets Widgets.\n# TYPE app_widgets gauge\napp_widgets 7\n',
    );
  });

  test('close() ends keep-alive connections, is idempotent, and frees the port', async () => {
    const { server } = await serve();
    const socket = connect(server.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(`GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await new Promise((resolve) => socket.once('data', resolve));
    const ended = new Promise((resolve) => socket.once('close', resolve));
    await Promise.all([server.close(), server.close()]);
    await ended;
    await expect(fetch(server.url)).rejects.toThrow();
  });

  test('reports a port in use as the bind error', async () => {
    const { server } = await serve();
    await expect(
      serveDiagnostics({ port: server.port, registry: new Registry() }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
