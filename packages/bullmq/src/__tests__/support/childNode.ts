import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** A tickwork node run in its own Node process, for tests that kill a node for real. */
export interface ChildNode {
  /** The process. */
  readonly child: ChildProcess;
  /** Every IPC message the child sent so far, in order. */
  readonly messages: unknown[];
  /** Resolves with the first message (past or future) matching `match`; rejects after `timeoutMs` or when the child exits first. */
  waitFor(match: (message: unknown) => boolean, timeoutMs?: number): Promise<unknown>;
  /** Sends an IPC message to the child. */
  send(message: unknown): void;
  /** SIGKILL, as a crash or a pulled plug: no cleanup runs in the child. Resolves once it exited. */
  kill(): Promise<void>;
  /** Resolves once the child exited (by itself or killed). */
  readonly exited: Promise<void>;
}

/**
 * Forks `file` (a `.ts` module, run through tsx with the `@tickwork/source`
 * condition so workspace packages load from source) with `args`. The child
 * talks to the test through `process.send`. The child is killed when the test
 * process exits, so a failed test leaves nothing behind.
 */
export function startChildNode(file: URL, args: readonly string[] = []): ChildNode {
  const child = fork(fileURLToPath(file), [...args], {
    execArgv: ['--import', 'tsx', '--conditions=@tickwork/source'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: unknown[] = [];
  const listeners = new Set<(message: unknown) => void>();
  child.on('message', (message) => {
    messages.push(message);
    for (const listener of listeners) listener(message);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  return {
    child,
    messages,
    exited,
    send(message) {
      child.send(message as never);
    },
    waitFor(match, timeoutMs = 20_000) {
      const seen = messages.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`child ${child.pid}: no matching message within ${timeoutMs} ms`));
        }, timeoutMs);
        const listener = (message: unknown): void => {
          if (!match(message)) return;
          cleanup();
          resolve(message);
        };
        void exited.then(() => {
          if (!listeners.has(listener)) return;
          cleanup();
          reject(
            new Error(`child ${child.pid} exited (code ${child.exitCode}) before the message`),
          );
        });
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        listeners.add(listener);
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
