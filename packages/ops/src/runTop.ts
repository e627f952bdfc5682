import { parseArgs } from 'node:util';
import { type Clock, systemClock, type TimerHandle } from '@tickwork/core';
import { DIAGNOSTICS_SCHEMA, type DiagnosticsSnapshot } from './diagnosticsSnapshot.js';
import { sanitize } from './format.js';
import { renderTop } from './renderTop.js';

/** Where `tickwork top` writes: a terminal, or anything with `write`. */
export interface TopOutput {
  /** Writes text. */
  write(chunk: string): unknown;
  /** Terminal width, when a terminal. */
  readonly columns?: number;
  /** Terminal height, when a terminal. */
  readonly rows?: number;
  /** Whether it is a terminal (colours are used only then). */
  readonly isTTY?: boolean;
  /** Subscribes to terminal resizes. */
  on?(event: 'resize', listener: () => void): unknown;
  /** Unsubscribes from terminal resizes. */
  off?(event: 'resize', listener: () => void): unknown;
}

/** Where `tickwork top` reads keys (`q`, Ctrl-C) from in live mode. */
export interface TopInput {
  /** Subscribes to input. */
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  /** Unsubscribes from input. */
  off(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  /** Whether it is a terminal (then it is put in raw mode to get single keys). */
  readonly isTTY?: boolean;
  /** Raw mode switch of a terminal. */
  setRawMode?(raw: boolean): unknown;
  /** Starts the flow of input. */
  resume?(): unknown;
  /** Stops the flow of input (lets the process exit). */
  pause?(): unknown;
}

/** What {@link runTop} talks to; every field defaults to the real process's. */
export interface TopIO {
  /** The table goes here. @defaultValue `process.stdout` */
  stdout: TopOutput;
  /** Errors and usage go here. @defaultValue `process.stderr` */
  stderr: {
    /** Writes text. */
    write(chunk: string): unknown;
  };
  /** Keys come from here in live mode. @defaultValue `process.stdin` */
  stdin: TopInput;
  /** Environment (`TICKWORK_TOKEN`, `NO_COLOR`). @defaultValue `process.env` */
  env: Readonly<Record<string, string | undefined>>;
  /** HTTP client. @defaultValue `globalThis.fetch` */
  fetch: (
    url: string,
    init: { headers: Record<string, string>; signal: AbortSignal },
  ) => Promise<Response>;
  /** Refresh timer. @defaultValue `systemClock` */
  clock: Clock;
  /** Whether to quit on SIGINT/SIGTERM as well as on `q`. @defaultValue true */
  signals: boolean;
}

/** The URL `tickwork top` reads when given none (the port the device-server demo uses). */
export const DEFAULT_TOP_URL = 'http://127.0.0.1:9464/';

/** Usage text of `tickwork top`. */
export const TOP_USAGE = `Usage: tickwork top [url] [options]

Shows every component and key of a tickwork process, latest first, from its
diagnostics endpoint (serveDiagnostics). url defaults to ${DEFAULT_TOP_URL}

Options:
  --once             print one table and exit (for scripts)
  --interval <time>  refresh period: 500, 500ms or 2s (default 1s, min 100ms)
  --token <token>    bearer token (or set TICKWORK_TOKEN, which stays out of ps)
  --width <n>        table width (default: the terminal's, else 100)
  -h, --help         show this help

Keys: q or Ctrl-C quits.
`;

const ENTER = '\x1b[?1049h\x1b[?25l'; // alternate screen, cursor hidden
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

class UsageError extends Error {}

function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (m === null)
    throw new UsageError(
      `--interval: expected a time like 500, 500ms or 2s (got ${JSON.stringify(text)})`,
    );
  const ms = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  if (ms < 100) throw new UsageError('--interval: must be at least 100ms');
  return ms;
}

function diagnosticsUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`not an http(s) URL: ${text}`);
  // Accept the base URL the server prints as well as the endpoint itself.
  if (!url.pathname.endsWith('/diagnostics')) {
    url.pathname = `${url.pathname.replace(/\/+$/, '')}/diagnostics`;
  }
  return url.href;
}

interface TopArgs {
  url: string;
  once: boolean;
  intervalMs: number;
  token: string | undefined;
  width: number | undefined;
  help: boolean;
}

function parse(args: readonly string[], env: TopIO['env']): TopArgs {
  let parsed: ReturnType<typeof parseTopArgs>;
  try {
    parsed = parseTopArgs(args);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1)
    throw new UsageError(`expected at most one url (got ${positionals.length})`);
  let width: number | undefined;
  if (values.width !== undefined) {
    width = Number(values.width);
    if (!Number.isInteger(width) || width < 20)
      throw new UsageError('--width: must be an integer >= 20');
  }
  return {
    url: diagnosticsUrl(positionals[0] ?? DEFAULT_TOP_URL),
    once: values.once ?? false,
    intervalMs: values.interval === undefined ? 1000 : parseInterval(values.interval),
    token: values.token ?? env['TICKWORK_TOKEN'],
    width,
    help: values.help ?? false,
  };
}

function parseTopArgs(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    allowPositionals: true,
    strict: true,
    options: {
      once: { type: 'boolean' },
      interval: { type: 'string' },
      token: { type: 'string' },
      width: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

function defaultIO(): TopIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    env: process.env,
    fetch: (url, init) => globalThis.fetch(url, init),
    clock: systemClock,
    signals: true,
  };
}

function messageOf(error: unknown): string {
  if (error instanceof Error) {
    // fetch wraps the interesting part (ECONNREFUSED ...) in `cause`.
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message}: ${cause.message}` : error.message;
  }
  return String(error);
}

async function fetchSnapshot(io: TopIO, a: TopArgs): Promise<DiagnosticsSnapshot> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (a.token !== undefined) headers['Authorization'] = `Bearer ${a.token}`;
  const res = await io.fetch(a.url, {
    headers,
    signal: AbortSignal.timeout(Math.max(2000, a.intervalMs)),
  });
  if (res.status === 401)
    throw new Error(`${a.url}: 401 Unauthorized (pass --token or set TICKWORK_TOKEN)`);
  if (!res.ok) throw new Error(`${a.url}: HTTP ${res.status}`);
  const doc = (await res.json()) as Partial<DiagnosticsSnapshot> | null;
  if (doc?.schema !== DIAGNOSTICS_SCHEMA) {
    throw new Error(
      `${a.url}: not a ${DIAGNOSTICS_SCHEMA} document (schema ${JSON.stringify(doc?.schema)})`,
    );
  }
  return doc as DiagnosticsSnapshot;
}

function useColor(io: TopIO): boolean {
  return io.stdout.isTTY === true && io.env['NO_COLOR'] === undefined;
}

/** Live mode: redraws in place until `q`, Ctrl-C or a signal; resolves 0. */
function live(io: TopIO, a: TopArgs): Promise<number> {
  return new Promise<number>((resolve) => {
    let timer: TimerHandle | undefined;
    let stopped = false;
    let doc: DiagnosticsSnapshot | undefined;
    let problem: string | undefined;
    const out = io.stdout;

    const draw = (): void => {
      const width = a.width ?? out.columns ?? 100;
      const height = out.rows ?? 40;
      const lines: string[] = [];
      if (doc !== undefined) {
        const table = renderTop(doc, {
          width,
          height: height - (problem === undefined ? 0 : 1),
          color: useColor(io),
          source: a.url,
          hint: 'q quits',
        });
        lines.push(...table.split('\n'));
      } else if (problem === undefined) {
        lines.push(`tickwork top · connecting to ${a.url} …`);
      }
      if (problem !== undefined)
        lines.push(sanitize(`! ${problem}; retrying every ${a.intervalMs} ms`).slice(0, width));
      out.write(`${HOME}${lines.join(`${CLEAR_LINE}\n`)}${CLEAR_LINE}\n${CLEAR_BELOW}`);
    };

    const tick = async (): Promise<void> => {
      try {
        doc = await fetchSnapshot(io, a);
        problem = undefined;
      } catch (error) {
        problem = messageOf(error);
      }
      if (stopped) return;
      draw();
      timer = io.clock.setTimeout(() => void tick(), a.intervalMs);
    };

    const onKey = (chunk: Buffer | string): void => {
      const keys = String(chunk);
      if (keys.includes('q') || keys.includes('Q') || keys.includes('\u0003')) finish();
    };
    const onSignal = (): void => finish();
    const finish = (): void => {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) io.clock.clearTimeout(timer);
      io.stdin.off('data', onKey);
      if (io.stdin.isTTY === true) io.stdin.setRawMode?.(false);
      io.stdin.pause?.();
      out.off?.('resize', draw);
      if (io.signals) {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
      out.write(LEAVE);
      resolve(0);
    };

    out.write(ENTER);
    // Raw mode delivers `q` and Ctrl-C as keys, without Enter and without SIGINT.
    if (io.stdin.isTTY === true) io.stdin.setRawMode?.(true);
    io.stdin.on('data', onKey);
    io.stdin.resume?.();
    out.on?.('resize', draw);
    if (io.signals) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    void tick();
  });
}

/**
 * `tickwork top [url] [--once] [--interval <time>] [--token <token>]`: a live
 * terminal table of a process's diagnostics (see {@link renderTop}), sorted
 * latest first and redrawn in place every interval on the alternate screen;
 * `q` or Ctrl-C quits. `--once` prints one table and exits, for scripts.
 *
 * @param args - the arguments after `top`
 * @param io - streams, environment, fetch and clock; defaults to the real process's
 * @returns the exit code: 0 done, 1 the endpoint could not be read (`--once`), 2 bad usage
 */
export async function runTop(args: readonly string[], io: Partial<TopIO> = {}): Promise<number> {
  const full: TopIO = { ...defaultIO(), ...io };
  let a: TopArgs;
  try {
    a = parse(args, full.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    full.stderr.write(`tickwork top: ${error.message}\n\n${TOP_USAGE}`);
    return 2;
  }
  if (a.help) {
    full.stdout.write(TOP_USAGE);
    return 0;
  }
  if (!a.once) return live(full, a);
  try {
    const doc = await fetchSnapshot(full, a);
    const width = a.width ?? full.stdout.columns ?? 100;
    full.stdout.write(`${renderTop(doc, { width, color: useColor(full), source: a.url })}\n`);
    return 0;
  } catch (error) {
    full.stderr.write(`tickwork top: ${sanitize(messageOf(error))}\n`);
    return 1;
  }
}
