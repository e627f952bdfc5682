import { spawn } from 'node:child_process';
import { ConfigError, CronSyntaxError } from '@tickwork/core';
import type { CronRunContext, CronTask } from './cronJob.js';
import { nextRun, toCronPattern } from './nextRun.js';

/** One job line of a crontab file. */
export interface CrontabEntry {
  /** One-based line number in the file. */
  readonly line: number;
  /** The schedule: five fields or a nickname such as `@daily`. */
  readonly expression: string;
  /** The zone from the last `CRON_TZ=` line above it, if any. */
  readonly tz: string | undefined;
  /** The task name (first word after the schedule). */
  readonly name: string;
  /** The words after the name. */
  readonly args: readonly string[];
  /** `NAME=value` lines seen above it (for shell commands). */
  readonly env: Readonly<Record<string, string>>;
}

/**
 * The part of a `WorkerProcess` a crontab needs: `send(key, target, args)`
 * resolving with the result. Any object with that method will do.
 */
export interface CrontabWorker {
  /** Runs `target` with `args` in the pool under `key`. */
  send(key: string, target: string, args?: unknown): PromiseLike<unknown>;
}

/** What the names in a crontab file are bound to, tried in this order. */
export interface CrontabBindings {
  /** Tasks by name. */
  tasks?: Readonly<Record<string, CronTask>>;
  /** A worker pool whose targets are looked up by name (its handlers are not listed: any name not in `tasks` goes to it). */
  worker?: CrontabWorker;
  /**
   * Run names bound to nothing as `/bin/sh -c "<name> <args>"`. Off unless set:
   * a crontab file must not run arbitrary commands by accident.
   * @defaultValue false
   */
  shell?: boolean;
}

const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

function unquote(value: string): string {
  const v = value.trim();
  return (v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))
    ? v.slice(1, -1)
    : v;
}

function lineError(line: number, error: unknown): never {
  if (error instanceof CronSyntaxError) {
    const e = new CronSyntaxError(
      `CronTab.parseFile: line ${line}: ${error.message}`,
      error.expression,
      error.field,
      error.position,
      { cause: error },
    );
    e.line = line;
    throw e;
  }
  if (error instanceof ConfigError) {
    throw new ConfigError(`CronTab.parseFile: line ${line}: ${error.message}`, error.path, {
      cause: error,
    });
  }
  throw error;
}

/**
 * Parses crontab text into entries. Lines are `m h dom mon dow name [args...]`
 * or `@nickname name [args...]`; `#` starts a comment line; blank lines are
 * skipped; `CRON_TZ=Zone` sets the zone of the lines below it; other
 * `NAME=value` lines are kept as environment for shell commands.
 *
 * @throws CronSyntaxError (with `line`) for a bad schedule; ConfigError for a
 *   line with no task name or a bad `CRON_TZ`
 */
export function parseCrontab(text: string): CrontabEntry[] {
  if (typeof text !== 'string') {
    throw new ConfigError(`CronTab.parseFile: text must be a string (got ${typeof text})`, 'text');
  }
  const entries: CrontabEntry[] = [];
  let tz: string | undefined;
  let env: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const assignment = ASSIGNMENT.exec(line);
    if (assignment !== null) {
      const [, key, raw] = assignment as unknown as [string, string, string];
      const value = unquote(raw);
      if (key === 'CRON_TZ') {
        try {
          nextRun('* * * * *', 0, { tz: value });
        } catch (error) {
          lineError(lineNo, error);
        }
        tz = value;
      } else {
        env = { ...env, [key]: value };
      }
      continue;
    }
    const words = line.split(/\s+/);
    const fieldCount = words[0]!.startsWith('@') ? 1 : 5;
    const expression = words.slice(0, fieldCount).join(' ');
    const name = words[fieldCount];
    try {
      toCronPattern(expression);
    } catch (error) {
      lineError(lineNo, error);
    }
    if (name === undefined) {
      throw new ConfigError(
        `CronTab.parseFile: line ${lineNo}: "${line}" has a schedule but no task name after it`,
        'text',
      );
    }
    entries.push({ line: lineNo, expression, tz, name, args: words.slice(fieldCount + 1), env });
  }
  return entries;
}

/** The task an entry runs, from the bindings. @internal */
export function bindEntry(entry: CrontabEntry, bindings: CrontabBindings): CronTask {
  const task = bindings.tasks?.[entry.name];
  if (task !== undefined) {
    if (typeof task !== 'function') {
      throw new ConfigError(
        `CronTab.load: bindings.tasks.${entry.name} must be a function`,
        'bindings.tasks',
      );
    }
    return task;
  }
  const worker = bindings.worker;
  if (worker !== undefined) {
    return (ctx: CronRunContext) => worker.send(ctx.job, entry.name, ctx.args);
  }
  if (bindings.shell === true)
    return shellTask(`${entry.name} ${entry.args.join(' ')}`.trim(), entry.env);
  throw new ConfigError(
    `CronTab.load: line ${entry.line}: no task named "${entry.name}" in bindings.tasks and no bindings.worker; ` +
      'shell commands are off (pass { shell: true } to run it as one)',
    'bindings',
  );
}

/** A task running `command` with /bin/sh; resolves with its stdout, rejects on a non-zero exit. */
function shellTask(command: string, env: Readonly<Record<string, string>>): CronTask {
  return ({ signal }) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], {
        env: { ...process.env, ...env },
        signal,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        if (out.length < 65_536) out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        if (err.length < 65_536) err += d.toString();
      });
      child.on('error', reject);
      child.on('close', (code) => {
        if (code === 0) resolve(out);
        else
          reject(
            Object.assign(new Error(`command "${command}" exited with ${code}: ${err.trim()}`), {
              exitCode: code,
            }),
          );
      });
    });
}
