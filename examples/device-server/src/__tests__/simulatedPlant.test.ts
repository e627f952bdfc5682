import { AbortError, KeyNotFoundError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, it } from 'vitest';
import { DeviceError, SimulatedPlant } from '../simulatedPlant.js';

describe('SimulatedPlant', () => {
  it('has a few hundred Tango-style attributes on several kinds of device', () => {
    const plant = new SimulatedPlant();
    const attributes = plant.attributes();
    expect(attributes.length).toBeGreaterThanOrEqual(200);
    expect(attributes).toContain('sys/tg/1/temperature');
    expect(attributes).toContain('sys/ps/20/setpoint');
    expect(attributes).toContain('sys/scope/1/waveform');
  });

  it('answers after the device latency, in virtual time', async () => {
    const clock = new VirtualClock({ now: Date.UTC(2026, 0, 1) });
    const plant = new SimulatedPlant({ clock, faultRate: 0, hangRate: 0 });
    let values: unknown;
    void plant.readAttributes('sys/tg/1', ['temperature', 'pressure']).then((v) => (values = v));
    await clock.advance(0);
    expect(values).toBeUndefined();
    await clock.advance(8); // thermometers answer within 1-8 ms
    expect(values).toHaveLength(2);
    const [temperature, pressure] = values as number[];
    expect(temperature).toBeGreaterThan(14);
    expect(temperature).toBeLessThan(26);
    expect(pressure).toBeGreaterThan(1_000);
  });

  it('fails some reads with DeviceError and hangs the flaky device until aborted', async () => {
    const clock = new VirtualClock();
    const faulty = new SimulatedPlant({ clock, faultRate: 1, hangRate: 0 });
    const failed = expect(faulty.readAttributes('sys/tg/2', ['humidity'])).rejects.toBeInstanceOf(
      DeviceError,
    );
    await clock.advance(10);
    await failed;

    const hanging = new SimulatedPlant({ clock, faultRate: 0, hangRate: 1 });
    const controller = new AbortController();
    const hung = hanging.readAttributes('sys/ps/1', ['current'], controller.signal);
    let settled = false;
    void hung.catch(() => (settled = true));
    await clock.advance(60_000);
    expect(settled).toBe(false);
    controller.abort(new AbortError('timed out'));
    await expect(hung).rejects.toBeInstanceOf(AbortError);
    expect(hanging.counts.hangs).toBe(1);
  });

  it('writes setpoints clamped to 0-100 and refuses read-only attributes', async () => {
    const plant = new SimulatedPlant();
    await expect(plant.write('sys/ps/3/setpoint', 150.456)).resolves.toBe(100);
    await expect(plant.write('sys/ps/3/current', 1)).rejects.toBeInstanceOf(DeviceError);
    await expect(plant.write('sys/xx/1/setpoint', 1)).rejects.toBeInstanceOf(KeyNotFoundError);
  });
});
