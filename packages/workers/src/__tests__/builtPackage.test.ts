/**
 * The built package on plain Node (issue 4: worker files must load under
 * vitest and from the built package; piscina issue #153). Builds
 * `@tickwork/core` and `@tickwork/workers` into their `dist/` folders with
 * tsc, then runs fixtures/built/main.mjs in a child Node process with no tsx,
 * no `@tickwork/source` condition and no NODE_OPTIONS: a WorkerProcess from
 * `dist` runs the plain JavaScript executor fixtures/built/executor.mjs on
 * real threads. The fixtures sit inside the package so that Node resolves
 * `@tickwork/workers` (self-reference) and `@tickwork/core` (workspace link)
 * by name, through their `exports`.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const href = (path: string): string => pathToFileURL(join(root, path)).href;

beforeAll(async () => {
  for (const pkg of ['core', 'workers']) {
    await run(process.execPath, [tsc, '-p', `packages/${pkg}/tsconfig.build.json`], {
      cwd: root,
      timeout: 100_000,
    });
  }
}, 120_000);

it('runs a plain JavaScript executor on threads from dist, with plain Node and no tsx', async () => {
  // vitest's own options must not reach the child (nor, through it, the threads).
  const { NODE_OPTIONS: _vitestOptions, ...env } = process.env;
  const main = fileURLToPath(new URL('./fixtures/built/main.mjs', import.meta.url));
  // execFile rejects unless the child exits with code 0 within the timeout.
  const { stdout, stderr } = await run(process.execPath, [main], {
    cwd: root,
    env,
    timeout: 30_000,
  });
  expect(stderr).toBe('');
  const lines = stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  const nodeStripsTypes = Boolean((process.features as { typescript?: unknown }).typescript);
  expect(JSON.parse(lines[0]!)).toEqual({
    main: {
      workers: href('packages/workers/dist/index.js'),
      core: href('packages/core/dist/index.js'),
      execArgv: [],
      nodeOptions: null,
    },
    doubled: [2, 4, 6],
    failed: {
      isTimeoutError: true,
      name: 'TimeoutError',
      code: 'ERR_TIMEOUT',
      message: 'inner timeout',
      timeoutMs: 42,
      stackFromExecutor: true,
    },
    crashed: { isWorkerCrashedError: true, exitCode: 3 },
    afterCrash: 42,
    thread: {
      workers: href('packages/workers/dist/worker/index.js'),
      core: href('packages/core/dist/index.js'),
      execArgv: [],
      nodeOptions: null,
      // Nothing in the thread strips types: no tsx was registered there.
      typescript: nodeStripsTypes ? 'loaded' : 'ERR_UNKNOWN_FILE_EXTENSION',
    },
  });
});
