import { VirtualClock } from '@tickwork/core/testing';
import { metrics, snapshot } from '@tickwork/ops';
import { expect, it } from 'vitest';
import { startDeviceServer } from '../deviceServer.js';

// The contract between the components' diagnostics and @tickwork/ops, checked
// on the real ThreadDict, ThreadedObject, WorkerProcess and CronTab (the ops
// tests use fixtures), in virtual time.
it('ops reads periods, ages, failures and counts from the real components', async () => {
  const clock = new VirtualClock({ now: Date.UTC(2026, 0, 1, 12) });
  const server = await startDeviceServer({
    clock,
    port: 0,
    summaryEveryMs: 0,
    faultRate: 0,
    hangRate: 1,
    print: () => {},
  });
  try {
    await clock.advance(3_000);
    const snap = snapshot(server.registry, { clock });
    expect(snap.components.map((c) => `${c.kind}:${c.name}`).sort()).toEqual(
      [
        'CronTab:snapshots',
        'ThreadDict:plant',
        'ThreadedObject:operator',
        'WorkerProcess:analysis',
      ].sort(),
    );
    const plant = snap.components.find((c) => c.name === 'plant')!;
    expect(plant.items).toHaveLength(262);
    const item = (key: string) => plant.items!.find((i) => i.name === key)!;
    expect(item('sys/ps/2/current').overview).toMatchObject({
      periodMs: 100,
      failing: false,
      stale: false,
    });
    expect(item('sys/tg/1/pressure').overview.periodMs).toBe(5_000);
    expect(item('sys/ps/2/current').overview.ageMs).toBeLessThanOrEqual(100);
    expect(item('sys/ps/2/current').stats.count).toBeGreaterThanOrEqual(25);
    // sys/ps/1 hangs on every read: its keys time out and show as failing
    expect(item('sys/ps/1/current').overview.failing).toBe(true);
    expect(item('sys/ps/1/current').stats.lastError?.name).toBe('TimeoutError');
    const operator = snap.components.find((c) => c.name === 'operator')!;
    expect(operator.overview?.periodMs ?? operator.detail?.['periodMs']).toBe(7_000);

    const text = await metrics(server.registry, { clock, defaultMetrics: false }).metrics();
    expect(text).toMatch(
      /tickwork_polls_total\{[^}]*component="plant"[^}]*result="success"[^}]*\} [1-9]\d*/,
    );
    expect(text).toMatch(
      /tickwork_polls_total\{[^}]*component="plant"[^}]*result="error"[^}]*\} [1-9]\d*/,
    );
    expect(text).not.toMatch(/sys\/ps\/1/); // no per-key labels
  } finally {
    // Stopping waits for reads in flight, whose timeouts run on the virtual clock.
    const stopped = server.shutdown();
    await clock.advance(5_000);
    expect((await stopped).components).toBe(0);
  }
}, 30_000);
