import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `condition` every 50 ms until it holds and returns how long that
 * took; throws naming `what` after `timeoutMs`. Real Redis means real time:
 * tests wait for conditions, not for fixed sleeps.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await sleep(50);
  }
}

/** Resolves after `ms` of real time (to let a window of real traffic pass). */
export function realDelay(ms: number): Promise<void> {
  return sleep(ms).then(() => undefined);
}
