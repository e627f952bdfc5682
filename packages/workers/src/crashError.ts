import { ConfigError, WorkerCrashedError } from '@tickwork/core';
import type { WorkerRequest } from './workerRequest.js';

const EXITED = /^worker exited with code: (-?\d+)/;

function canClone(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a thread's error event carried when it was not an `Error`. Node sends
 * an empty object when the thread died on something it could not serialise,
 * typically piscina failing to post a result that cannot be cloned.
 */
function describeCrash(error: unknown): Error {
  const o = error as { name?: unknown; message?: unknown } | null;
  if (typeof o === 'object' && o !== null && typeof o.message === 'string') {
    const e = new Error(o.message);
    if (typeof o.name === 'string') e.name = o.name;
    return e;
  }
  if (typeof o === 'object' && o !== null && Object.keys(o).length === 0) {
    return new Error(
      'the thread reported no error details (a handler result that cannot be structured-cloned does this)',
    );
  }
  return new Error(String(error));
}

/**
 * The error a request fails with when its task was rejected by the runner
 * rather than answered by the entry. piscina rejects with plain `Error`s told
 * apart only by message, so this is where they become typed:
 * - args that cannot be structured-cloned: {@link ConfigError} on `args`;
 * - the thread exited (`process.exit`, or after the executor failed to
 *   load): {@link WorkerCrashedError} with the exit code, and the load error
 *   as cause when the thread reported one;
 * - anything else (uncaught error in the thread, out of memory under
 *   `resourceLimits`, a result that cannot be cloned):
 *   {@link WorkerCrashedError} with the thread's error as cause.
 *
 * @param component - `WorkerProcess <name>` for the message
 * @param request - the request whose task failed
 * @param error - what the runner rejected with
 * @param loadError - the load error the thread reported, if any
 */
export function crashError(
  component: string,
  request: WorkerRequest,
  error: unknown,
  loadError: Error | undefined,
): Error {
  const what = `${component}: request ${request.id} (target "${request.target}")`;
  const e = error instanceof Error ? error : describeCrash(error);
  if (e.name === 'DataCloneError' && !canClone(request.args)) {
    return new ConfigError(
      `${what}: its args cannot be sent to a worker thread: ${e.message}`,
      'args',
      {
        cause: e,
      },
    );
  }
  const exited = EXITED.exec(e.message);
  const code = exited === null ? undefined : Number(exited[1]);
  if (loadError !== undefined) {
    return new WorkerCrashedError(
      `${what} failed: the executor did not load in its worker thread: ${loadError.message}`,
      code,
      { cause: loadError },
    );
  }
  if (code !== undefined) {
    return new WorkerCrashedError(
      `${what} failed: its worker thread exited with code ${code}`,
      code,
      {
        cause: e,
      },
    );
  }
  return new WorkerCrashedError(
    `${what} failed: its worker thread crashed: ${e.message}`,
    undefined,
    {
      cause: e,
    },
  );
}
