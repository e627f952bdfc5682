import { ConfigError, Registry, TimeoutError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, test } from 'vitest';
import { DIAGNOSTICS_SCHEMA } from '../diagnosticsSnapshot.js';
import { snapshot } from '../snapshot.js';
import { FixtureComponent, knownComponents, SimPoller, statsOf, T0 } from './fixtures.js';
import { loadSchema, validate } from './jsonSchema.js';

function known() {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  const components = knownComponents(registry, clock);
  return { registry, clock, components };
}

describe('snapshot', () => {
  test('is a versioned document of every component, in registration order', () => {
    const { registry, clock, components } = known();
    const doc = snapshot(registry, { clock });
    expect(doc.schema).toBe(DIAGNOSTICS_SCHEMA);
    expect(doc.schema).toBe('tickwork.diagnostics/v1');
    expect(doc.takenAt).toBe(T0);
    expect(doc.process.pid).toBe(process.pid);
    expect(doc.process.node).toBe(process.version);
    expect(doc.process.uptimeMs).toBeGreaterThan(0);
    expect(doc.process.memory.rss).toBeGreaterThan(doc.process.memory.heapUsed);
    expect(doc.components.map((c) => [c.kind, c.name, c.state])).toEqual([
      ['ThreadDict', 'plant', 'running'],
      ['ThreadedObject', 'heartbeat', 'running'],
      ['WorkerProcess', 'analysis', 'running'],
      ['CronTab', 'snapshots', 'running'],
      ['Bridge', 'bridge', 'idle'],
    ]);
    // Stats and detail pass through untouched.
    const plant = doc.components[0]!;
    expect(plant.stats).toEqual(components[0]!.stats);
    expect(plant.detail).toEqual({ size: 3, periodMs: 1000 });
    expect(plant.items?.map((i) => i.name)).toEqual([
      'sys/tg/1/temperature',
      'sys/ps/1/current',
      'sys/ps/1/voltage',
    ]);
    expect(doc.components[1]!.items).toBeUndefined();
  });

  test('derives a kind-independent overview of every component and item', () => {
    const { registry, clock } = known();
    const doc = snapshot(registry, { clock });
    const [plant, heartbeat, analysis, snapshots, bridge] = doc.components;
    expect(plant!.items!.map((i) => [i.name, i.overview])).toEqual([
      ['sys/tg/1/temperature', { periodMs: 100, ageMs: 50, failing: false, stale: false }],
      ['sys/ps/1/current', { periodMs: 500, ageMs: 2000, failing: true, stale: false }],
      ['sys/ps/1/voltage', { periodMs: 2000, ageMs: 6000, failing: false, stale: true }],
    ]);
    // Without ageMs in detail the age is the time since the last success.
    expect(plant!.overview).toEqual({ periodMs: 1000, ageMs: 50, failing: false, stale: false });
    expect(heartbeat!.overview).toEqual({
      periodMs: 1000,
      ageMs: 400,
      failing: false,
      stale: false,
    });
    expect(analysis!.overview).toEqual({
      periodMs: null,
      ageMs: 100,
      failing: false,
      stale: false,
    });
    expect(snapshots!.items![0]!.overview).toEqual({
      periodMs: null,
      ageMs: 60_000,
      failing: false,
      stale: false,
    });
    expect(bridge!.overview).toEqual({ periodMs: null, ageMs: null, failing: false, stale: false });
  });

  test('matches the committed JSON Schema and survives a JSON round trip', () => {
    const { registry, clock } = known();
    const doc = snapshot(registry, { clock });
    const json = JSON.parse(JSON.stringify(doc)) as unknown;
    expect(json).toEqual(doc);
    expect(validate(loadSchema(), json)).toEqual([]);
    // The validator does catch drift.
    expect(validate(loadSchema(), { ...doc, takenAt: 'now' })).toEqual([
      '$.takenAt: expected number, got string',
    ]);
  });

  test('failing and stale follow the detail a component reports, else its Stats', () => {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    const error = { name: 'Error', message: 'boom', at: T0 - 10 };
    new FixtureComponent('Thing', {
      name: 'thing',
      registry,
      clock,
      items: [
        // An error after the last success is failing; one before it is not.
        { name: 'err-after', stats: statsOf({ lastError: error, lastSuccess: T0 - 20 }) },
        { name: 'err-before', stats: statsOf({ lastError: error, lastSuccess: T0 - 5 }) },
        { name: 'never-ok', stats: statsOf({ lastError: error }) },
        // Reported detail wins over what the Stats suggest.
        {
          name: 'reported',
          stats: statsOf({ lastError: error }),
          detail: { consecutiveErrors: 0, stale: true, sampledAt: T0 - 30 },
        },
        { name: 'no-value-yet', stats: statsOf({ lastSuccess: T0 - 1 }), detail: { ageMs: null } },
      ],
    });
    const items = snapshot(registry, { clock }).components[0]!.items!;
    expect(
      items.map((i) => [i.name, i.overview.failing, i.overview.stale, i.overview.ageMs]),
    ).toEqual([
      ['err-after', true, false, 20],
      ['err-before', false, false, 5],
      ['never-ok', true, false, null],
      ['reported', false, true, 30],
      ['no-value-yet', false, false, null],
    ]);
  });

  test('follows a running poller in virtual time: ages, a key failing and recovering, staleness', async () => {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    const poller = new SimPoller({ name: 'plant', registry, clock })
      .add('fast', 100, { readMs: 2 })
      .add('slow', 250, { lagMs: 30 })
      .start();
    await clock.advance(1050);
    const item = (name: string) =>
      snapshot(registry, { clock }).components[0]!.items!.find((i) => i.name === name)!;
    expect(item('fast').stats.count).toBe(10);
    // The last read ended at +1002.
    expect(item('fast').overview).toEqual({
      periodMs: 100,
      ageMs: 48,
      failing: false,
      stale: false,
    });
    expect(item('slow').stats.delay).toBe(30);

    poller.fail('fast', new TimeoutError('read of fast timed out', 50));
    await clock.advance(100);
    expect(item('fast').overview).toEqual({
      periodMs: 100,
      ageMs: 148,
      failing: true,
      stale: false,
    });
    expect(item('fast').stats.lastError).toEqual({
      name: 'TimeoutError',
      message: 'read of fast timed out',
      code: 'ERR_TIMEOUT',
      at: T0 + 1102,
    });

    poller.fail('fast', undefined);
    await clock.advance(100);
    expect(item('fast').overview.failing).toBe(false);

    // Stopped, the value ages past its expiry (4 periods).
    await poller.stop();
    await clock.advance(401);
    expect(item('fast').overview).toEqual({
      periodMs: 100,
      ageMs: 449,
      failing: false,
      stale: true,
    });
    await poller.kill();
    expect(snapshot(registry, { clock }).components).toEqual([]);
  });

  test('rejects what is not a registry or options', () => {
    expect(() => snapshot({} as Registry)).toThrow(ConfigError);
    expect(() => snapshot(new Registry(), null as never)).toThrow(
      'snapshot: options must be an object (got null)',
    );
  });
});
