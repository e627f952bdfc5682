/**
 * The parts both modes of the device server share: the waveform analysis
 * pool, the periodic summary line and the shutdown sequence.
 * @module
 */
import type { Clock, Registry } from '@tickwork/core';
import type { DiagnosticsServer } from '@tickwork/ops';
import { ThreadedObject } from '@tickwork/polling';
import { WorkerProcess } from '@tickwork/workers';
import type { handlers } from './waveformExecutor.js';

/** The worker threads waveform statistics are computed in (1-2 threads, 2 s per analysis). */
export function analysisPool(
  common: { clock: Clock; registry: Registry },
  name: string,
): WorkerProcess<typeof handlers> {
  return new WorkerProcess<typeof handlers>({
    ...common,
    name,
    executor: new URL('./waveformExecutor.ts', import.meta.url),
    minThreads: 1,
    maxThreads: 2,
    timeoutMs: 2_000,
  });
}

/** A `ThreadedObject` printing `summary()` every `everyMs` (none for 0), not started. */
export function summaryReporter(
  common: { clock: Clock; registry: Registry },
  everyMs: number,
  print: (line: string) => void,
  summary: () => string,
): ThreadedObject<[], void> | undefined {
  if (everyMs <= 0) return undefined;
  return new ThreadedObject({
    ...common,
    name: 'summary',
    periodMs: everyMs,
    target: () => print(summary()),
  });
}

/**
 * A shutdown that runs once however often it is called: unsubscribe, stop
 * every component (3 s at most), take the final report, kill everything and
 * close the endpoint. Stopping first lets reads in flight finish (and, in
 * cluster mode, hands shards and leases to the other processes at once).
 */
export function shutdownOnce<R extends { components: number }>(
  subscriptions: readonly { unsubscribe(): void }[],
  registry: Registry,
  server: DiagnosticsServer,
  report: () => R,
): () => Promise<R> {
  let closing: Promise<R> | undefined;
  return () => {
    closing ??= (async () => {
      for (const s of subscriptions) s.unsubscribe();
      await registry.stopAll({ timeoutMs: 3_000 });
      const final = report();
      await registry.killAll();
      await server.close();
      return { ...final, components: registry.size };
    })();
    return closing;
  };
}
