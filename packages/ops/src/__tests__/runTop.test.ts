import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { afterEach, describe, expect, test } from 'vitest';
import { runCli } from '../cli.js';
import { renderTop } from '../renderTop.js';
import { runTop, TOP_USAGE, type TopIO } from '../runTop.js';
import { type DiagnosticsServer, serveDiagnostics } from '../serveDiagnostics.js';
import { snapshot } from '../snapshot.js';
import { knownComponents, T0 } from './fixtures.js';

const TOKEN = 'top-test-token-0123456789abcdef';
const servers: DiagnosticsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function knownServer(token?: string) {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  knownComponents(registry, clock);
  const server = await serveDiagnostics({ port: 0, registry, clock, ...(token ? { token } : {}) });
  servers.push(server);
  return { server, registry, clock };
}

/** A fake terminal: collects output, and takes keys and resizes from the test. */
class FakeTerminal extends EventEmitter {
  text = '';
  columns: number | undefined;
  rows: number | undefined;
  isTTY: boolean;
  raw: boolean[] = [];
  constructor(options: { columns?: number; rows?: number; isTTY?: boolean } = {}) {
    super();
    this.columns = options.columns;
    this.rows = options.rows;
    this.isTTY = options.isTTY ?? false;
  }
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
  setRawMode(raw: boolean): void {
    this.raw.push(raw);
  }
  pause(): void {}
  resume(): void {}
}

function io(
  overrides: Partial<TopIO> = {},
): TopIO & { out: FakeTerminal; err: FakeTerminal; keys: FakeTerminal } {
  const out = new FakeTerminal();
  const err = new FakeTerminal();
  const keys = new FakeTerminal();
  return {
    stdout: out,
    stderr: err,
    stdin: keys,
    env: {},
    fetch: (url, init) => globalThis.fetch(url, init),
    clock: new VirtualClock({ now: T0 }),
    signals: false,
    ...overrides,
    out,
    err,
    keys,
  };
}

describe('tickwork top --once', () => {
  test('prints one table of the endpoint and exits 0', async () => {
    const { server, registry, clock } = await knownServer();
    const t = io();
    expect(await runTop([server.url, '--once'], t)).toBe(0);
    const source = `${server.url}diagnostics`;
    const expected = renderTop(snapshot(registry, { clock }), { width: 100, source });
    const lines = t.out.text.split('\n');
    // The title carries live process figures (rss); the rest is exactly the known table.
    expect(lines[0]).toMatch(
      /^tickwork top · 2026-01-01T00:00:00\.000Z · pid \d+ · rss [\d.]+ MiB · http/,
    );
    expect(lines.slice(1).join('\n')).toBe(`${expected.split('\n').slice(1).join('\n')}\n`);
    expect(t.out.text).not.toContain('\x1b');
    expect(t.err.text).toBe('');
  });

  test('takes the endpoint URL itself, and --width', async () => {
    const { server } = await knownServer();
    const t = io();
    expect(await runTop([`${server.url}diagnostics`, '--once', '--width', '60'], t)).toBe(0);
    expect(t.out.text.split('\n').every((l) => l.length <= 60)).toBe(true);
    expect(t.out.text).toContain('plant     …current backoff');
  });

  test('sends the token from --token or TICKWORK_TOKEN; says what to do on 401', async () => {
    const { server } = await knownServer(TOKEN);
    const denied = io();
    expect(await runTop([server.url, '--once'], denied)).toBe(1);
    expect(denied.err.text).toBe(
      `tickwork top: ${server.url}diagnostics: 401 Unauthorized (pass --token or set TICKWORK_TOKEN)\n`,
    );
    expect(await runTop([server.url, '--once', '--token', TOKEN], io())).toBe(0);
    expect(await runTop([server.url, '--once'], io({ env: { TICKWORK_TOKEN: TOKEN } }))).toBe(0);
  });

  test('exits 1 with the reason when the endpoint cannot be read', async () => {
    const { server } = await knownServer();
    const url = server.url;
    await server.close();
    const t = io();
    expect(await runTop([url, '--once'], t)).toBe(1);
    expect(t.err.text).toMatch(
      /^tickwork top: fetch failed: connect ECONNREFUSED 127\.0\.0\.1:\d+\n$/,
    );

    const notOurs = io({ fetch: async () => new Response('{"hello":1}', { status: 200 }) });
    expect(await runTop(['http://127.0.0.1:9464', '--once'], notOurs)).toBe(1);
    expect(notOurs.err.text).toBe(
      'tickwork top: http://127.0.0.1:9464/diagnostics: not a tickwork.diagnostics/v1 document (schema undefined)\n',
    );
  });

  test('exits 2 with usage on bad arguments', async () => {
    for (const args of [
      ['--frobnicate'],
      ['a', 'b'],
      ['not a url'],
      ['ftp://host/'],
      ['--interval', 'soon'],
      ['--interval', '50ms'],
      ['--width', '5'],
    ]) {
      const t = io();
      expect(await runTop(args, t), args.join(' ')).toBe(2);
      expect(t.err.text).toMatch(/^tickwork top: .+\n\nUsage: tickwork top/);
    }
    const help = io();
    expect(await runTop(['--help'], help)).toBe(0);
    expect(help.out.text).toBe(TOP_USAGE);
  });
});

describe('tickwork top, live', () => {
  function snapshots() {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    const components = knownComponents(registry, clock);
    let fetches = 0;
    let failNext = false;
    const fetch: TopIO['fetch'] = async () => {
      fetches++;
      if (failNext) {
        failNext = false;
        throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') });
      }
      return new Response(JSON.stringify(snapshot(registry, { clock })), { status: 200 });
    };
    return {
      fetch,
      clock,
      components,
      fetches: () => fetches,
      failOnce: () => {
        failNext = true;
      },
    };
  }

  test('redraws in place every interval and quits on q, restoring the terminal', async () => {
    const s = snapshots();
    const out = new FakeTerminal({ columns: 100, rows: 30, isTTY: true });
    const keys = new FakeTerminal({ isTTY: true });
    const t = io({ stdout: out, stdin: keys, fetch: s.fetch, clock: s.clock, env: {} });
    const done = runTop(['http://127.0.0.1:9464/', '--interval', '2s'], t);

    await s.clock.advance(0);
    expect(s.fetches()).toBe(1);
    expect(keys.raw).toEqual([true]);
    expect(out.text.startsWith('\x1b[?1049h\x1b[?25l\x1b[H')).toBe(true);
    expect(out.text).toContain('q quits');
    expect(out.text).toContain('\x1b[31mplant'); // a TTY gets colours
    const firstFrame = out.text.length;

    await s.clock.advance(1999);
    expect(s.fetches()).toBe(1);
    await s.clock.advance(1);
    expect(s.fetches()).toBe(2);
    const second = out.text.slice(firstFrame);
    expect(second.startsWith('\x1b[H')).toBe(true);
    expect(second.endsWith('\x1b[K\n\x1b[J')).toBe(true);

    keys.emit('data', Buffer.from('q'));
    expect(await done).toBe(0);
    expect(keys.raw).toEqual([true, false]);
    expect(out.text.endsWith('\x1b[?25h\x1b[?1049l')).toBe(true);
    expect(keys.listenerCount('data')).toBe(0);
    expect(out.listenerCount('resize')).toBe(0);
    // No refresh after quitting.
    await s.clock.advance(10_000);
    expect(s.fetches()).toBe(2);
  });

  test('keeps the last table and shows the error while the endpoint is down; Ctrl-C quits', async () => {
    const s = snapshots();
    const out = new FakeTerminal({ columns: 100, rows: 30 });
    const t = io({ stdout: out, fetch: s.fetch, clock: s.clock });
    const done = runTop(['http://127.0.0.1:9464/'], t);
    await s.clock.advance(0);
    s.failOnce();
    const before = out.text.length;
    await s.clock.advance(1000);
    const frame = out.text.slice(before);
    expect(frame).toContain('sys/ps/1/current');
    expect(frame).toContain('! fetch failed: connect ECONNREFUSED; retrying every 1000 ms');
    expect(frame).not.toContain('\x1b[31m'); // not a TTY: no colours
    await s.clock.advance(1000);
    expect(out.text.slice(out.text.lastIndexOf('\x1b[H'))).not.toContain('retrying');
    t.keys.emit('data', '\u0003');
    expect(await done).toBe(0);
  });

  test('redraws on resize, to the new size', async () => {
    const s = snapshots();
    const out = new FakeTerminal({ columns: 100, rows: 30 });
    const t = io({ stdout: out, fetch: s.fetch, clock: s.clock });
    const done = runTop(['http://127.0.0.1:9464/'], t);
    await s.clock.advance(0);
    out.columns = 60;
    out.rows = 6;
    const before = out.text.length;
    out.emit('resize');
    const frame = stripVTControlCharacters(out.text.slice(before));
    expect(frame.split('\n').every((l) => l.length <= 60)).toBe(true);
    expect(frame).toContain('… 6 more');
    t.keys.emit('data', 'q');
    expect(await done).toBe(0);
  });
});

describe('tickwork command', () => {
  test('dispatches top, prints usage otherwise', async () => {
    const { server } = await knownServer();
    const t = io();
    expect(await runCli(['top', server.url, '--once'], t)).toBe(0);
    expect(t.out.text).toContain('sys/ps/1/current');

    const none = io();
    expect(await runCli([], none)).toBe(2);
    expect(none.err.text).toMatch(/^Usage: tickwork <command>/);
    const unknown = io();
    expect(await runCli(['bottom'], unknown)).toBe(2);
    expect(unknown.err.text).toMatch(/^tickwork: unknown command "bottom"/);
    const help = io();
    expect(await runCli(['--help'], help)).toBe(0);
    expect(help.out.text).toMatch(/^Usage: tickwork <command>/);
  });

  test('bin/tickwork.js runs `top --once` as a process and exits 0', async () => {
    const { server } = await knownServer();
    const bin = fileURLToPath(new URL('../../bin/tickwork.js', import.meta.url));
    const root = fileURLToPath(new URL('../../../../', import.meta.url));
    // From source: the launcher imports the package by name, and this condition picks src/.
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [
        '--conditions=@tickwork/source',
        '--import',
        'tsx',
        bin,
        'top',
        server.url,
        '--once',
        '--width',
        '120',
      ],
      { cwd: root, timeout: 20_000 },
    );
    expect(stderr).toBe('');
    expect(stdout.split('\n')[3]).toBe(
      'COMPONENT KEY                  STATE    PERIOD    AGE   LATE    P99 USAGE   RUNS   ERR LAST ERROR',
    );
    expect(stdout).toContain('plant     sys/ps/1/current     backoff   500ms   2.0s   12ms');
  });
});
