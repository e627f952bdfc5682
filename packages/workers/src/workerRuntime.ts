import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '@tickwork/core';

/** How the threads of a pool are started. */
export interface WorkerRuntime {
  /** File URL of the thread entry module (`worker/entry.ts` or `.js`). */
  readonly entry: string;
  /** Node options for the threads; undefined inherits the main thread's. */
  readonly execArgv: readonly string[] | undefined;
}

const SOURCE_CONDITION = '@tickwork/source';
const TS_FILE = /\.[cm]?tsx?$/;

/**
 * Whether this package runs from its TypeScript sources (vitest, or node with
 * `--conditions=@tickwork/source --import tsx`) rather than from `dist`.
 */
export const fromSource = import.meta.url.endsWith('.ts');

/** Node >= 22.18 strips types natively; Node 20 needs a loader in each thread. */
const nativeTypeScript = Boolean((process.features as { typescript?: unknown }).typescript);

/**
 * An `--import` argument registering tsx in a worker thread. `--import tsx`
 * does not do it: tsx's loader skips registration outside the main thread on
 * Node 20 (piscina issue #153 is the same problem), so the thread calls
 * tsx's `register()` itself, from a data URL importing tsx's ESM API by
 * absolute URL (a data URL cannot resolve bare specifiers).
 */
function tsxImport(component: string, executorPath: string): string {
  const bases = [join(process.cwd(), 'noop.js'), import.meta.url];
  for (const base of bases) {
    let resolved: string;
    try {
      resolved = createRequire(base).resolve('tsx/esm/api');
    } catch {
      continue;
    }
    // require.resolve picks the CommonJS build; the ESM one sits beside it.
    const esm = resolved.replace(/\.cjs$/, '.mjs');
    const file = existsSync(esm) ? esm : resolved;
    return `data:text/javascript,import{register}from${JSON.stringify(pathToFileURL(file).href)};register();`;
  }
  throw new ConfigError(
    `${component}: ${executorPath} is TypeScript, and worker threads on Node ${process.version} need tsx to load it: ` +
      'install tsx, build the executor to JavaScript, or pass options.execArgv',
    'options.executor',
  );
}

/** Main-thread flags passed on to threads when thread flags must be given explicitly. */
const INHERITED =
  /^(--conditions|-C|--enable-source-maps|--no-warnings|--no-deprecation|--trace-warnings|--trace-uncaught)(=|$)/;

/**
 * The main thread's flags that are safe and useful in a thread. Once
 * `execArgv` is given explicitly Node no longer filters it, and rejects the
 * whole worker for one flag it does not allow there (`--expose-gc`, which
 * vitest passes, or any V8 option); preloads (`--import`, `--require`) are
 * left out so a main-thread loader cannot change how the entry loads.
 */
function inheritedFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const m = INHERITED.exec(a);
    if (m === null) continue;
    out.push(a);
    // `--conditions node` / `-C node`: the value is the next argument.
    if (m[2] === '' && (m[1] === '--conditions' || m[1] === '-C') && i + 1 < argv.length)
      out.push(argv[++i]!);
  }
  return out;
}

/**
 * Works out the entry module and thread options for an executor. With
 * `execArgv` given, it is used as is. Without, when this package and the
 * executor are JavaScript, threads inherit the main thread's options (Node's
 * default). For TypeScript sources the threads get the main thread's
 * conditions and source-map and warning flags, plus the `@tickwork/source`
 * condition when this package runs from source (so threads resolve
 * workspace packages the same way), and a tsx loader when Node cannot strip
 * types itself.
 *
 * @param component - name for error messages
 * @param executorPath - file path of the executor module
 * @param execArgv - the user's `execArgv` option
 */
export function resolveWorkerRuntime(
  component: string,
  executorPath: string,
  execArgv: readonly string[] | undefined,
): WorkerRuntime {
  const entry = new URL(`./worker/entry${fromSource ? '.ts' : '.js'}`, import.meta.url).href;
  if (execArgv !== undefined) return { entry, execArgv };
  const typescript = fromSource || TS_FILE.test(executorPath);
  if (!typescript) return { entry, execArgv: undefined };
  const flags = inheritedFlags();
  if (fromSource && !flags.some((a) => a.includes(SOURCE_CONDITION)))
    flags.push(`--conditions=${SOURCE_CONDITION}`);
  if (!nativeTypeScript) flags.push('--import', tsxImport(component, executorPath));
  return { entry, execArgv: flags };
}
