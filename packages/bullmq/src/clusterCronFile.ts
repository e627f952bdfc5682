import { ConfigError, checkOptions } from '@tickwork/core';
import type { CrontabEntry, CrontabWorker } from '@tickwork/crontab';
import type { ClusterCronTask } from './clusterCronJob.js';

/**
 * What the names in a crontab file loaded by `ClusterCronTab.load` are bound
 * to, tried in this order: `CronTab`'s bindings without shell commands, which
 * a cluster does not run (each node would need the same commands installed,
 * and a slot may run on any of them).
 */
export interface ClusterCrontabBindings {
  /** Tasks by name. */
  tasks?: Readonly<Record<string, ClusterCronTask>>;
  /**
   * A worker pool (a `WorkerProcess`, a `ClusterWorkerProcess`, anything with
   * `send(key, target, args)`): any name not in `tasks` is sent to it as a
   * target, with the job name as the key and the line's words as the args.
   */
  worker?: CrontabWorker;
}

const C = 'ClusterCronTab.load';

/** Validates bindings; `shell: true` is refused rather than ignored. */
function checkBindings(bindings: ClusterCrontabBindings): ClusterCrontabBindings {
  const b = checkOptions(C, 'bindings', bindings);
  if (
    (b as { shell?: unknown }).shell !== undefined &&
    (b as { shell?: unknown }).shell !== false
  ) {
    throw new ConfigError(
      `${C}: bindings.shell is not supported: a cluster crontab does not run shell commands; bind names to tasks or a worker`,
      'bindings.shell',
    );
  }
  if (b.tasks !== undefined) checkOptions(C, 'bindings.tasks', b.tasks);
  if (b.worker !== undefined && typeof b.worker?.send !== 'function') {
    throw new ConfigError(`${C}: bindings.worker must have a send() method`, 'bindings.worker');
  }
  return b;
}

/** @internal one job to add for a crontab line */
export interface PreparedEntry {
  readonly entry: CrontabEntry;
  readonly name: string;
  readonly task: ClusterCronTask;
}

/**
 * @internal binds every entry (a name already used on the node gets the
 * line number, `name#line`, as CronTab does) and checks the names are free,
 * before anything is added
 */
export function prepareEntries(
  entries: readonly CrontabEntry[],
  bindings: ClusterCrontabBindings,
  used: (name: string) => boolean,
): PreparedEntry[] {
  const b = checkBindings(bindings);
  const prepared = entries.map((entry) => ({
    entry,
    name: used(entry.name) ? `${entry.name}#${entry.line}` : entry.name,
    task: bindEntry(entry, b),
  }));
  const taken = new Set<string>();
  for (const p of prepared) {
    if (taken.has(p.name) || used(p.name)) {
      throw new ConfigError(
        `${C}: line ${p.entry.line}: job name "${p.name}" is used twice`,
        'crontab',
      );
    }
    taken.add(p.name);
  }
  return prepared;
}

/** The task a crontab entry runs, from the bindings. */
function bindEntry(entry: CrontabEntry, bindings: ClusterCrontabBindings): ClusterCronTask {
  const task = bindings.tasks?.[entry.name];
  if (task !== undefined) {
    if (typeof task !== 'function') {
      throw new ConfigError(
        `${C}: bindings.tasks.${entry.name} must be a function`,
        'bindings.tasks',
      );
    }
    return task;
  }
  const worker = bindings.worker;
  if (worker !== undefined) return (ctx) => worker.send(ctx.job, entry.name, ctx.args);
  throw new ConfigError(
    `${C}: line ${entry.line}: no task named "${entry.name}" in bindings.tasks and no bindings.worker`,
    'bindings',
  );
}
