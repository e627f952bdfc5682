import type { Scheduler } from '@tickwork/core';

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
      await within(closing, ms, scheduler);
      // BullMQ's disconnect waits for the socket's 'end', which a connection
      // already down may never emit: bounded as well. It stops reconnecting
      // at once either way.
      if (!closed) await within(o.disconnect(), ms, scheduler);
    }),
  );
}

/** Resolves once `work` settles or `ms` passed on `scheduler`, whichever is first. */
function within(work: Promise<unknown>, ms: number, scheduler: Scheduler): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = scheduler.at(scheduler.clock.now() + ms, () => resolve());
    const done = (): void => {
      timer.cancel();
      resolve();
    };
    work.then(done, done);
  });
}
