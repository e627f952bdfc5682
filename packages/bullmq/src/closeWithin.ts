import type { Clock, Scheduler } from '@tickwork/core';

/** What BullMQ's `Queue`, `Worker`, `QueueEvents` and `QueueEventsProducer` share for shutting down. */
export interface BullClosable {
  /** `force` (a `Worker`'s): do not wait for the jobs in progress, they are redelivered. */
  close(force?: boolean): Promise<void>;
  disconnect(): Promise<void>;
}

/** @internal how long `kill()` lets BullMQ close gracefully before dropping connections, ms */
export const CLOSE_WITHIN_MS = 2_000;

/**
 * @internal closes BullMQ objects gracefully, or, past `ms`, drops their
 * connections: with Redis unreachable BullMQ's `close()` waits for it to
 * come back, and `kill()` must end from any state.
 */
export async function closeWithin(
  objects: Iterable<BullClosable | undefined>,
  scheduler: Scheduler,
  ms = CLOSE_WITHIN_MS,
): Promise<void> {
  await Promise.all(
    [...objects].map(async (o) => {
      if (o === undefined) return;
      let closed = false;
      // Forced: a worker's graceful close waits for its fetch loop, which
      // waits for Redis; its jobs were already settled or handed back.
      const closing = o.close(true).then(
        () => {
          closed = true;
        },
        () => undefined,
      );
      await settledWithin(closing, ms, scheduler.clock, scheduler);
      // BullMQ's disconnect waits for the socket's 'end', which a connection
      // already down may never emit: bounded as well. It stops reconnecting
      // at once either way.
      if (!closed) await settledWithin(o.disconnect(), ms, scheduler.clock, scheduler);
    }),
  );
}

/**
 * @internal resolves once `work` settles or `ms` passed, whichever is first:
 * `kill()` waits a little for work in progress with Redis, never for ever.
 */
export function settledWithin(
  work: Promise<unknown>,
  ms: number,
  clock: Clock,
  scheduler: Scheduler,
): Promise<void> {
  return new Promise((resolve) => {
    const timer = scheduler.at(clock.now() + ms, () => resolve());
    work.then(
      () => {
        timer.cancel();
        resolve();
      },
      () => {
        timer.cancel();
        resolve();
      },
    );
  });
}
