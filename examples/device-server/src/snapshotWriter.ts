/**
 * The snapshot job of both modes: the ops snapshot of the demo's registry,
 * written to `tickwork-snapshot.json` atomically.
 * @module
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock, Registry } from '@tickwork/core';
import { snapshot } from '@tickwork/ops';

let written = 0;

/**
 * Creates `dir` and returns a task writing the ops snapshot of `registry`
 * to `<dir>/tickwork-snapshot.json`, resolving with the file's path.
 */
export async function snapshotWriter(
  registry: Registry,
  clock: Clock,
  dir: string,
): Promise<() => Promise<string>> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'tickwork-snapshot.json');
  return async () => {
    // One temp file per write: two servers of one process (the cluster test) may write at once.
    const temp = `${file}.${process.pid}.${++written}.tmp`;
    await writeFile(temp, `${JSON.stringify(snapshot(registry, { clock }), null, 2)}\n`);
    await rename(temp, file); // readers never see half a file
    return file;
  };
}
