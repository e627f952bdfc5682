/**
 * What both modes of the demo poll the same way: each attribute's period
 * and the device an attribute belongs to (the `batchBy` of one `readMany`
 * call per device).
 * @module
 */

/** Polling period of each attribute, ms: 100 ms to 5 s, as real device servers mix them. */
export const PERIODS: Readonly<Record<string, number>> = {
  temperature: 1_000,
  pressure: 5_000,
  humidity: 2_000,
  current: 100,
  voltage: 500,
  setpoint: 1_000,
  state: 5_000,
  waveform: 1_000,
  frequency: 1_000,
};

/** The device of an attribute: `sys/tg/1/temperature` → `sys/tg/1`. */
export const deviceOf = (attribute: string): string =>
  attribute.slice(0, attribute.lastIndexOf('/'));

/** The polling period of an attribute, ms (1 s for a name not in {@link PERIODS}). */
export const periodOf = (attribute: string): number =>
  PERIODS[attribute.slice(attribute.lastIndexOf('/') + 1)] ?? 1_000;

/** Bytes to MiB, one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;
