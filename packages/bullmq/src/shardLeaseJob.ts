/**
 * The BullMQ side of a shard lease: scheduler ids, job ids and the window a
 * lease job stands for. @internal
 */

/** Id (and job name) of shard `shard`'s job scheduler. @internal */
export function shardSchedulerId(shard: number): string {
  return `shard-${shard}`;
}

/** The shard of a lease job's name (`shard-<n>`), or undefined. @internal */
export function shardOfJobName(name: string): number | undefined {
  const match = /^shard-(\d{1,4})$/.exec(name);
  return match === null ? undefined : Number(match[1]);
}

/** Shard and slot of a scheduler job id (`repeat:shard-<n>:<slot ms>`), or undefined. @internal */
export function parseLeaseJobId(id: string): { shard: number; slot: number } | undefined {
  const match = /^repeat:shard-(\d{1,4}):(\d+)$/.exec(id);
  return match === null ? undefined : { shard: Number(match[1]), slot: Number(match[2]) };
}

/**
 * End of the window of the lease job for `slot`: the slot of the next job,
 * which BullMQ 6.7 creates when this one moves to active (at `pickedAt`):
 * `slot + leaseMs`, or, when that has passed already (a job taken late), the
 * next slot on the scheduler's grid after `pickedAt` (BullMQ's
 * `getJobSchedulerEveryNextMillis`). @internal
 */
export function windowEnd(slot: number, leaseMs: number, pickedAt: number): number {
  const next = slot + leaseMs;
  if (next >= pickedAt) return next;
  const offset = ((slot % leaseMs) + leaseMs) % leaseMs;
  const aligned = Math.floor(pickedAt / leaseMs) * leaseMs + offset;
  return aligned <= pickedAt ? aligned + leaseMs : aligned;
}
