import { ConfigError, Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { Registry as PromRegistry } from 'prom-client';
import { describe, expect, test, vi } from 'vitest';
import { metrics } from '../metrics.js';
import { EXPECTED_METRICS } from './expectedMetrics.js';
import { FixtureComponent, hist, knownComponents, statsOf, T0 } from './fixtures.js';

function known() {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  const components = knownComponents(registry, clock);
  return { registry, clock, components };
}

/** The sample lines of `text` for metric `name` (exact name, any labels). */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe('metrics', () => {
  test('exposes every component under its family with exact names, labels and values', async () => {
    const { registry, clock } = known();
    const text = await metrics(registry, { defaultMetrics: false, clock }).metrics();
    expect(text).toBe(EXPECTED_METRICS);
  });

  test('labels by component and kind only, never by key', async () => {
    const { registry, clock } = known();
    const text = await metrics(registry, { defaultMetrics: false, clock }).metrics();
    const labelNames = new Set([...text.matchAll(/[{,]([a-z_]+)="/g)].map((m) => m[1]));
    expect([...labelNames].sort()).toEqual(['component', 'kind', 'quantile', 'result', 'state']);
    expect(text).not.toContain('sys/tg/1/temperature');
    expect(text).not.toContain('waveformStats');
  });

  test("adds prom-client's default Node metrics, event-loop lag among them", async () => {
    const { registry, clock } = known();
    const prom = metrics(registry, { clock });
    expect(prom).toBeInstanceOf(PromRegistry);
    expect(prom.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await prom.metrics();
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
    expect(samples(text, 'tickwork_up')).toHaveLength(5);
  });

  test('reads values on every scrape: changes show, killed components leave', async () => {
    const { registry, clock, components } = known();
    const prom = metrics(registry, { defaultMetrics: false, clock });
    const plant = components[0]!;
    plant.stats = statsOf({ count: 31, errors: 5, duration: hist(1, 2, 2, 2, 2, 2, 2) });
    let text = await prom.metrics();
    expect(samples(text, 'tickwork_polls_total')).toContain(
      'tickwork_polls_total{component="plant",kind="ThreadDict",result="error"} 5',
    );
    expect(samples(text, 'tickwork_poll_duration_seconds_count')[0]).toBe(
      'tickwork_poll_duration_seconds_count{component="plant",kind="ThreadDict"} 1',
    );
    await plant.stop();
    text = await prom.metrics();
    expect(samples(text, 'tickwork_up')[0]).toBe(
      'tickwork_up{component="plant",kind="ThreadDict"} 0',
    );
    await plant.kill();
    text = await prom.metrics();
    expect(text).not.toContain('component="plant"');
    expect(samples(text, 'tickwork_up')).toHaveLength(4);
  });

  test('takes one registry snapshot per scrape, shared by every metric', async () => {
    const { registry, clock, components } = known();
    const prom = metrics(registry, { defaultMetrics: false, clock });
    const spy = vi.spyOn(components[0]!, 'diagnostics');
    await prom.metrics();
    expect(spy).toHaveBeenCalledTimes(1);
    await prom.getMetricsAsJSON();
    expect(spy).toHaveBeenCalledTimes(2);
  });

  test('gives same-named components distinct series, so Prometheus accepts the scrape', async () => {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    for (let i = 0; i < 3; i++)
      new FixtureComponent('ThreadDict', { name: 'dict', registry, clock });
    new FixtureComponent('CronTab', { name: 'dict', registry, clock });
    const text = await metrics(registry, { defaultMetrics: false, clock }).metrics();
    expect(samples(text, 'tickwork_items')).toEqual([
      'tickwork_items{component="dict",kind="ThreadDict"} 0',
      'tickwork_items{component="dict (2)",kind="ThreadDict"} 0',
      'tickwork_items{component="dict (3)",kind="ThreadDict"} 0',
      'tickwork_items{component="dict",kind="CronTab"} 0',
    ]);
  });

  test('maps other kinds to a family on request, else to tickwork_run_*', async () => {
    const { registry, clock } = known();
    const text = await metrics(registry, {
      defaultMetrics: false,
      clock,
      families: { Bridge: 'cron' },
    }).metrics();
    expect(samples(text, 'tickwork_cron_runs_total')).toContain(
      'tickwork_cron_runs_total{component="bridge",kind="Bridge",result="success"} 0',
    );
    expect(samples(text, 'tickwork_runs_total')).toEqual([]);
  });

  test('reads worker task counts from item detail, else from Stats', async () => {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    new FixtureComponent('WorkerProcess', {
      name: 'by-items',
      registry,
      clock,
      items: [
        { name: 'a', stats: statsOf(), detail: { completed: 3, failed: 1, queued: 2 } },
        { name: 'b', stats: statsOf(), detail: { completed: 4, 'timed-out': 2, queued: 1 } },
      ],
    });
    new FixtureComponent('WorkerProcess', {
      name: 'by-stats',
      registry,
      clock,
      stats: statsOf({ count: 9, errors: 2 }),
    });
    const text = await metrics(registry, { defaultMetrics: false, clock }).metrics();
    expect(samples(text, 'tickwork_tasks_total')).toEqual([
      'tickwork_tasks_total{component="by-items",kind="WorkerProcess",state="completed"} 7',
      'tickwork_tasks_total{component="by-items",kind="WorkerProcess",state="failed"} 1',
      'tickwork_tasks_total{component="by-items",kind="WorkerProcess",state="canceled"} 0',
      'tickwork_tasks_total{component="by-items",kind="WorkerProcess",state="timed-out"} 2',
      'tickwork_tasks_total{component="by-stats",kind="WorkerProcess",state="completed"} 7',
      'tickwork_tasks_total{component="by-stats",kind="WorkerProcess",state="failed"} 2',
      'tickwork_tasks_total{component="by-stats",kind="WorkerProcess",state="canceled"} 0',
      'tickwork_tasks_total{component="by-stats",kind="WorkerProcess",state="timed-out"} 0',
    ]);
    expect(samples(text, 'tickwork_task_queue_size')).toEqual([
      'tickwork_task_queue_size{component="by-items",kind="WorkerProcess"} 3',
    ]);
  });

  test('rejects bad options with ConfigError', () => {
    const registry = new Registry();
    expect(() => metrics({} as Registry)).toThrow(ConfigError);
    expect(() => metrics(registry, { families: { X: 'poll-ish' as never } })).toThrow(
      "metrics: options.families.X must be one of 'poll', 'task', 'cron', 'run' (got \"poll-ish\")",
    );
    expect(() => metrics(registry, { defaultMetrics: 'no' as never })).toThrow(
      'metrics: options.defaultMetrics must be a boolean (got "no")',
    );
  });
});
