import { ConfigError, checkInstant } from '@tickwork/core';

/** A job's run window and arguments, as {@link checkRunWindow} returns them. */
export interface RunWindow {
  /** Epoch ms of the first slot that may run; `-Infinity` without `startAt`. */
  readonly startAt: number;
  /** Epoch ms after which no slot runs; `Infinity` without `stopAt`. */
  readonly stopAt: number;
  /** The task's `context.args`; `[]` by default. */
  readonly args: readonly string[];
}

/**
 * Checks the `startAt` / `stopAt` / `args` options of a cron job, as both
 * `CronTab.add` and the cluster one take them.
 * @param component - names the caller in error messages
 * @throws ConfigError for a bad instant, `stopAt` before `startAt`, or args that are not strings
 */
export function checkRunWindow(
  component: string,
  options: { startAt?: number | Date; stopAt?: number | Date; args?: readonly string[] },
): RunWindow {
  const startAt =
    options.startAt === undefined
      ? Number.NEGATIVE_INFINITY
      : checkInstant(component, 'options.startAt', options.startAt);
  const stopAt =
    options.stopAt === undefined
      ? Number.POSITIVE_INFINITY
      : checkInstant(component, 'options.stopAt', options.stopAt);
  if (stopAt < startAt) {
    throw new ConfigError(
      `${component}: options.stopAt must not be before options.startAt`,
      'options.stopAt',
    );
  }
  const args: unknown = options.args ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
    throw new ConfigError(`${component}: options.args must be an array of strings`, 'options.args');
  }
  return { startAt, stopAt, args };
}
