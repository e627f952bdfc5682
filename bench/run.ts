/**
 * `pnpm bench [--quick] [name...]`: runs the benchmarks side by side with
 * their baselines, prints markdown tables and writes JSON to bench/results/.
 * Names: scheduler, polling, workers, crontab, bullmq (default: all that exist).
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = ['scheduler', 'polling', 'workers', 'crontab', 'bullmq'];
const asked = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = asked.filter((a) => !all.includes(a));
if (unknown.length > 0) {
  console.error(`bench: unknown benchmark ${unknown.join(', ')}; choose from ${all.join(', ')}`);
  process.exit(2);
}
for (const name of asked.length > 0 ? asked : all) {
  const file = join(here, `${name}.ts`);
  if (!existsSync(file)) {
    console.log(`(bench ${name}: not written yet)`);
    continue;
  }
  const mod = (await import(file)) as Record<string, unknown>;
  const run = Object.entries(mod).find(
    ([k, v]) => /^run\w*Bench$/.test(k) && typeof v === 'function',
  );
  if (run === undefined) throw new Error(`bench/${name}.ts exports no run...Bench function`);
  await (run[1] as () => Promise<unknown>)();
}
