import { AbortError, type Clock, KeyNotFoundError, systemClock } from '@tickwork/core';

/** A fault a simulated device reports, as real hardware drivers do. */
export class DeviceError extends Error {
  /** The device that failed. */
  readonly device: string;

  /**
   * @param device - device name
   * @param message - what went wrong
   */
  constructor(device: string, message: string) {
    super(`${device}: ${message}`);
    this.name = 'DeviceError';
    this.device = device;
  }
}

/** The kinds of simulated device. */
export type DeviceKind = 'thermometer' | 'powerSupply' | 'scope';

/** A value a simulated attribute can hold. */
export type AttributeValue = number | boolean | string | Float64Array;

/** Options of {@link SimulatedPlant}. */
export interface SimulatedPlantOptions {
  /** Thermometers (`sys/tg/N`, attributes temperature, pressure, humidity). @defaultValue 60 */
  thermometers?: number;
  /** Power supplies (`sys/ps/N`, attributes current, voltage, setpoint, state). @defaultValue 20 */
  powerSupplies?: number;
  /** Oscilloscopes (`sys/scope/N`, attribute waveform: 1,000 samples). @defaultValue 1 */
  scopes?: number;
  /** Share of reads that fail with a `DeviceError`. @defaultValue 0.02 */
  faultRate?: number;
  /** Share of reads of the flaky device (`sys/ps/1`) that hang until aborted. @defaultValue 0.05 */
  hangRate?: number;
  /** Random seed, for reproducible runs. @defaultValue 1 */
  seed?: number;
  /** Time source for latencies. @defaultValue systemClock */
  clock?: Clock;
}

interface Device {
  readonly name: string;
  readonly kind: DeviceKind;
  /** Read latency range, ms. */
  readonly latency: readonly [number, number];
  readonly state: Map<string, AttributeValue>;
}

const ATTRIBUTES: Record<DeviceKind, readonly string[]> = {
  thermometer: ['temperature', 'pressure', 'humidity'],
  powerSupply: ['current', 'voltage', 'setpoint', 'state'],
  scope: ['waveform', 'frequency'],
};

/**
 * A plant of simulated devices with realistic read latencies (1-50 ms),
 * noise, occasional faults, and one device (`sys/ps/1`) that now and then
 * hangs until its read is aborted. Attribute names are Tango-style
 * `domain/family/member/attribute` strings.
 */
export class SimulatedPlant {
  private readonly devices = new Map<string, Device>();
  private readonly faultRate: number;
  private readonly hangRate: number;
  private readonly clock: Clock;
  private seed: number;
  /** Reads started, by outcome; for the demo's summary. */
  readonly counts = { reads: 0, faults: 0, hangs: 0, writes: 0 };

  /** @param options - see {@link SimulatedPlantOptions} */
  constructor(options: SimulatedPlantOptions = {}) {
    this.faultRate = options.faultRate ?? 0.02;
    this.hangRate = options.hangRate ?? 0.05;
    this.clock = options.clock ?? systemClock;
    this.seed = options.seed ?? 1;
    for (let i = 1; i <= (options.thermometers ?? 60); i++)
      this.addDevice(`sys/tg/${i}`, 'thermometer', [1, 8]);
    for (let i = 1; i <= (options.powerSupplies ?? 20); i++)
      this.addDevice(`sys/ps/${i}`, 'powerSupply', [5, 30]);
    for (let i = 1; i <= (options.scopes ?? 1); i++)
      this.addDevice(`sys/scope/${i}`, 'scope', [20, 50]);
  }

  /** Every attribute name, e.g. `sys/tg/1/temperature`. */
  attributes(): string[] {
    const out: string[] = [];
    for (const d of this.devices.values())
      for (const a of ATTRIBUTES[d.kind]) out.push(`${d.name}/${a}`);
    return out;
  }

  /** Device names of one kind. */
  devicesOf(kind: DeviceKind): string[] {
    return [...this.devices.values()].filter((d) => d.kind === kind).map((d) => d.name);
  }

  /**
   * Reads attributes of ONE device in one request (as Tango reads several
   * attributes of a device together), after the device's latency.
   */
  readAttributes(
    device: string,
    attributes: readonly string[],
    signal?: AbortSignal,
  ): Promise<AttributeValue[]> {
    const d = this.device(device);
    this.counts.reads++;
    const hang = device === 'sys/ps/1' && this.random() < this.hangRate;
    const fault = !hang && this.random() < this.faultRate;
    if (hang) this.counts.hangs++;
    if (fault) this.counts.faults++;
    const [lo, hi] = d.latency;
    const latency = lo + this.random() * (hi - lo);
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        this.clock.clearTimeout(timer);
        reject(signal?.reason ?? new AbortError(`${device}: read aborted`));
      };
      const timer = hang
        ? undefined
        : this.clock.setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            if (fault) reject(new DeviceError(device, 'communication timeout (simulated)'));
            else resolve(attributes.map((a) => this.sample(d, a)));
          }, latency);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Writes a power supply's setpoint; resolves with the value the device took (clamped to 0-100). */
  async write(attribute: string, value: AttributeValue): Promise<AttributeValue> {
    const { device, name } = this.split(attribute);
    const d = this.device(device);
    if (d.kind !== 'powerSupply' || name !== 'setpoint' || typeof value !== 'number') {
      throw new DeviceError(device, `attribute ${name} is not writable with ${typeof value}`);
    }
    this.counts.writes++;
    const taken = Math.min(100, Math.max(0, Math.round(value * 100) / 100));
    d.state.set('setpoint', taken);
    return taken;
  }

  /** Splits `sys/tg/1/temperature` into device `sys/tg/1` and attribute `temperature`. */
  split(attribute: string): { device: string; name: string } {
    const i = attribute.lastIndexOf('/');
    return { device: attribute.slice(0, i), name: attribute.slice(i + 1) };
  }

  private addDevice(name: string, kind: DeviceKind, latency: [number, number]): void {
    const state = new Map<string, AttributeValue>();
    if (kind === 'powerSupply') {
      state.set('setpoint', Math.round(this.random() * 50));
      state.set('state', 'ON');
    }
    this.devices.set(name, { name, kind, latency, state });
  }

  private device(name: string): Device {
    const d = this.devices.get(name);
    if (d === undefined) throw new KeyNotFoundError(name, `SimulatedPlant: no device ${name}`);
    return d;
  }

  private sample(d: Device, attribute: string): AttributeValue {
    const t = this.clock.now() / 1000;
    const noise = (scale: number): number => (this.random() - 0.5) * scale;
    switch (attribute) {
      case 'temperature':
        return 20 + 5 * Math.sin(t / 60) + noise(0.2);
      case 'pressure':
        return 1013 + noise(2);
      case 'humidity':
        return 40 + 10 * Math.sin(t / 300) + noise(1);
      case 'setpoint':
        return d.state.get('setpoint') as number;
      case 'current':
        return (d.state.get('setpoint') as number) / 10 + noise(0.05);
      case 'voltage':
        return 24 + noise(0.1);
      case 'state':
        return d.state.get('state') as string;
      case 'frequency':
        return 50 + noise(0.01);
      case 'waveform': {
        const samples = new Float64Array(1_000);
        const phase = this.random() * Math.PI * 2;
        for (let i = 0; i < samples.length; i++) {
          samples[i] = Math.sin(phase + (i * Math.PI * 2) / 100) + noise(0.1);
        }
        return samples;
      }
      default:
        throw new DeviceError(d.name, `no attribute ${attribute}`);
    }
  }

  /** A small seeded PRNG (mulberry32), so runs are reproducible. */
  private random(): number {
    this.seed = (this.seed + 0x6d2b79f5) | 0;
    let t = this.seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
