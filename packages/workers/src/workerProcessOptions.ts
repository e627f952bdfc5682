import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ResourceLimits } from 'node:worker_threads';
import {
  type ComponentOptions,
  ConfigError,
  checkBoolean,
  checkDuration,
  checkInteger,
  checkKnownKeys,
  checkNumber,
  checkOptions,
  checkString,
  describeValue,
} from '@tickwork/core';
import { parseTimeout } from './requestOptions.js';

/**
 * Options of `WorkerProcess`. Every duration is in milliseconds. Besides
 * these, the common component options apply: `name`, `clock`, `logger`,
 * `registry`, `scheduler`.
 */
export interface WorkerProcessOptions extends ComponentOptions {
  /**
   * The executor module: an absolute path or `file:` URL of a module that
   * calls `defineExecutor({...})` from `@tickwork/workers/worker`. `.ts`
   * files work on Node 20 when tsx is installed (it is registered in each
   * thread). Required.
   */
  executor: string | URL;
  /**
   * Passed to the executor's `init` once in each thread; structured-cloned
   * once per thread. @defaultValue undefined
   */
  initArgs?: unknown;
  /** Threads kept alive when idle (started at construction). @defaultValue 1 */
  minThreads?: number;
  /**
   * Most threads, which is also how many requests run at once.
   * @defaultValue `os.availableParallelism()`
   */
  maxThreads?: number;
  /** How long a thread above `minThreads` may stay idle before it ends, ms. @defaultValue 30000 */
  idleTimeoutMs?: number;
  /**
   * Most requests queued (not counting running ones); a send beyond it fails
   * at once with `OverrunError`. @defaultValue Infinity
   */
  maxQueue?: number;
  /**
   * Default run-time limit of every request, ms from when it starts (see
   * `SendOptions.timeoutMs`); 0 for none. @defaultValue 0
   */
  timeoutMs?: number;
  /**
   * After a running request is canceled or times out, how long its handler
   * may take to notice `ctx.signal` and return before its thread is
   * terminated and replaced, ms. The request itself settles at once.
   * @defaultValue 1000
   */
  abortGraceMs?: number;
  /**
   * How many settled requests are remembered for `after`, `waitCompleted`,
   * `info` and `cancel` (oldest forgotten first). @defaultValue 1000
   */
  keepSettled?: number;
  /** Heap and stack limits of each thread; a thread over them fails its request as a crash. @defaultValue none */
  resourceLimits?: ResourceLimits;
  /**
   * Node options of each thread. By default threads inherit the main
   * thread's, plus a tsx loader (and the `@tickwork/source` condition) when
   * running TypeScript sources; given, it is used exactly as is.
   * @defaultValue inherited
   */
  execArgv?: readonly string[];
  /** Environment of each thread. @defaultValue `process.env` */
  env?: Readonly<Record<string, string>>;
  /** Start processing at construction; otherwise requests queue until `start()`. @defaultValue true */
  start?: boolean;
}

/** Options after validation. @internal */
export interface ParsedWorkerProcessOptions {
  executor: string;
  executorPath: string;
  initArgs: unknown;
  minThreads: number;
  maxThreads: number;
  idleTimeoutMs: number;
  maxQueue: number;
  timeoutMs: number;
  abortGraceMs: number;
  keepSettled: number;
  resourceLimits: ResourceLimits | undefined;
  execArgv: readonly string[] | undefined;
  env: Readonly<Record<string, string>> | undefined;
  start: boolean;
}

const C = 'WorkerProcess';
const KEYS = new Set([
  'name',
  'clock',
  'logger',
  'registry',
  'scheduler',
  'executor',
  'initArgs',
  'minThreads',
  'maxThreads',
  'idleTimeoutMs',
  'maxQueue',
  'timeoutMs',
  'abortGraceMs',
  'keepSettled',
  'resourceLimits',
  'execArgv',
  'env',
  'start',
]);
const LIMIT_KEYS = new Set([
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
]);

/**
 * An executor option as a file URL and a path. The file must exist: a
 * module the threads cannot import would leave piscina starting threads
 * that never become ready.
 * @internal
 */
export function parseExecutor(path: string, value: unknown): { url: string; path: string } {
  let url: string;
  let file: string;
  if (value instanceof URL || (typeof value === 'string' && value.startsWith('file:'))) {
    const u = value instanceof URL ? value : new URL(value);
    if (u.protocol !== 'file:') {
      throw new ConfigError(`${C}: ${path} must be a file: URL (got a ${u.protocol} URL)`, path);
    }
    url = u.href;
    file = fileURLToPath(u);
  } else {
    file = checkString(C, path, value);
    if (!isAbsolute(file)) {
      throw new ConfigError(
        `${C}: ${path} must be an absolute path or a file: URL, e.g. new URL('./executor.js', import.meta.url) (got ${describeValue(file)})`,
        path,
      );
    }
    url = pathToFileURL(file).href;
  }
  if (!existsSync(file))
    throw new ConfigError(`${C}: ${path} names a file that does not exist: ${file}`, path);
  return { url, path: file };
}

function parseResourceLimits(value: unknown): ResourceLimits {
  const o = checkOptions(C, 'options.resourceLimits', value as ResourceLimits);
  checkKnownKeys(C, 'options.resourceLimits', o, LIMIT_KEYS);
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) checkNumber(C, `options.resourceLimits.${k}`, v, { min: 1 });
  }
  return { ...o };
}

function parseExecArgv(value: unknown): readonly string[] {
  if (!Array.isArray(value)) {
    throw new ConfigError(
      `${C}: options.execArgv must be an array of strings (got ${describeValue(value)})`,
      'options.execArgv',
    );
  }
  for (let i = 0; i < value.length; i++) checkString(C, `options.execArgv[${i}]`, value[i]);
  return [...(value as string[])];
}

function parseEnv(value: unknown): Readonly<Record<string, string>> {
  const o = checkOptions(C, 'options.env', value as Record<string, string>);
  for (const [k, v] of Object.entries(o))
    checkString(C, `options.env.${k}`, v, { allowEmpty: true });
  return { ...o };
}

/**
 * Validates every option; throws {@link ConfigError} naming the option.
 * @internal
 */
export function parseWorkerProcessOptions(
  options: WorkerProcessOptions | undefined,
): ParsedWorkerProcessOptions {
  if (options === undefined) {
    throw new ConfigError(`${C}: options are required (at least { executor })`, 'options');
  }
  const o = checkOptions(C, 'options', options);
  checkKnownKeys(C, 'options', o, KEYS);
  if (o.executor === undefined) {
    throw new ConfigError(
      `${C}: options.executor is required: the URL or absolute path of a module calling defineExecutor()`,
      'options.executor',
    );
  }
  const executor = parseExecutor('options.executor', o.executor);
  const maxThreads =
    o.maxThreads === undefined
      ? availableParallelism()
      : checkInteger(C, 'options.maxThreads', o.maxThreads, { min: 1, max: 1024 });
  const minThreads =
    o.minThreads === undefined
      ? Math.min(1, maxThreads)
      : checkInteger(C, 'options.minThreads', o.minThreads, { min: 0, max: maxThreads });
  return {
    executor: executor.url,
    executorPath: executor.path,
    initArgs: o.initArgs,
    minThreads,
    maxThreads,
    idleTimeoutMs:
      o.idleTimeoutMs === undefined
        ? 30_000
        : checkDuration(C, 'options.idleTimeoutMs', o.idleTimeoutMs),
    maxQueue:
      o.maxQueue === undefined || o.maxQueue === Number.POSITIVE_INFINITY
        ? Number.POSITIVE_INFINITY
        : checkInteger(C, 'options.maxQueue', o.maxQueue, { min: 0 }),
    timeoutMs: o.timeoutMs === undefined ? 0 : parseTimeout('options.timeoutMs', o.timeoutMs),
    abortGraceMs:
      o.abortGraceMs === undefined
        ? 1_000
        : checkDuration(C, 'options.abortGraceMs', o.abortGraceMs),
    keepSettled:
      o.keepSettled === undefined
        ? 1_000
        : checkInteger(C, 'options.keepSettled', o.keepSettled, { min: 0 }),
    resourceLimits:
      o.resourceLimits === undefined ? undefined : parseResourceLimits(o.resourceLimits),
    execArgv: o.execArgv === undefined ? undefined : parseExecArgv(o.execArgv),
    env: o.env === undefined ? undefined : parseEnv(o.env),
    start: o.start === undefined ? true : checkBoolean(C, 'options.start', o.start),
  };
}
