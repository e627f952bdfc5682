import { ConfigError } from '@tickwork/core';
import { IANAZone, Settings, type Zone } from 'luxon';
import { DAY_MS } from './civil.js';

/**
 * Longest distance, in ms, over which two probes with the same offset are taken to mean the
 * offset did not change in between. Two days: no zone in the tz database has changed its
 * offset twice within two days since standard time was adopted, and the DST resolution in
 * `runSearch.ts` relies on the same window (offsets one day either side of a wall time).
 */
const MAX_GAP = 2 * DAY_MS;
/** Known intervals kept per zone; the cache starts over when it grows past this. */
const MAX_INTERVALS = 4096;
/** Zones kept; the oldest is dropped when a new one comes. */
const MAX_ZONES = 64;
/** Probes are clamped to the `Date` range less three days. */
const PROBE_LIMIT = 8.64e15 - 3 * DAY_MS;

const UTC_ALIASES = new Set([
  'UTC',
  'ETC/UTC',
  'UCT',
  'ETC/UCT',
  'GMT',
  'ETC/GMT',
  'GMT0',
  'ETC/GMT0',
  'GMT+0',
  'GMT-0',
  'ETC/GMT+0',
  'ETC/GMT-0',
  'GREENWICH',
  'ETC/GREENWICH',
  'UNIVERSAL',
  'ETC/UNIVERSAL',
  'ZULU',
  'ETC/ZULU',
]);

/**
 * Offsets of one time zone, read from luxon (`Zone#offset`, backed by `Intl`, about 15 us
 * a call) and cached as sorted, disjoint intervals of constant offset with their exact
 * transitions. A lookup is a binary search (usually a hit on the last interval used); a miss
 * asks luxon once and merges the answer with the intervals less than {@link MAX_GAP} away,
 * bisecting to the second when the offsets differ. Runs that follow each other thus cost
 * about one luxon call per day of schedule the first time, and none after.
 */
export class ZoneRules {
  /** Name of the zone, e.g. `America/New_York`. */
  readonly name: string;
  /** Whether the zone never changes its offset (UTC, `Etc/GMT+5`). */
  readonly fixed: boolean;
  /** The offset in ms when {@link ZoneRules.fixed}, else NaN. */
  readonly fixedOffset: number;
  private readonly zone: Zone;
  // Interval i covers instants [los[i], his[i]] with offset offs[i]; sorted by `los`.
  private los: number[] = [];
  private his: number[] = [];
  private offs: number[] = [];
  private last = -1;

  constructor(name: string, zone: Zone, fixedOffset: number) {
    this.name = name;
    this.zone = zone;
    this.fixedOffset = fixedOffset;
    this.fixed = !Number.isNaN(fixedOffset);
  }

  /** Offset of the zone at instant `ts`, in ms (local = ts + offset). */
  offset(ts: number): number {
    if (this.fixed) return this.fixedOffset;
    const last = this.last;
    if (last >= 0 && ts >= this.los[last]! && ts <= this.his[last]!) return this.offs[last]!;
    const i = this.floor(ts);
    if (i >= 0 && ts <= this.his[i]!) {
      this.last = i;
      return this.offs[i]!;
    }
    return this.probe(ts, i);
  }

  /**
   * The first instant after `ts`, and at most one day after it, at which the offset
   * changes, or NaN.
   */
  transitionAfter(ts: number): number {
    if (this.fixed) return Number.NaN;
    this.offset(ts);
    this.offset(ts + DAY_MS);
    let i = this.floor(ts);
    while (i >= 0 && i + 1 < this.los.length && this.los[i + 1] === this.his[i]! + 1) {
      if (this.los[i + 1]! > ts + DAY_MS) break;
      if (this.offs[i + 1] !== this.offs[i]) return this.los[i + 1]!;
      i++;
    }
    return Number.NaN;
  }

  /** Index of the last interval starting at or before `ts`, or -1. */
  private floor(ts: number): number {
    const los = this.los;
    let lo = 0;
    let hi = los.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (los[mid]! <= ts) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  private raw(ts: number): number {
    // luxon answers NaN at the very ends of the Date range; nothing changes there anyway.
    const clamped = Math.min(PROBE_LIMIT, Math.max(-PROBE_LIMIT, ts));
    const offset = Math.round(this.zone.offset(clamped) * 60_000);
    return Number.isFinite(offset) ? offset : 0;
  }

  /** The instant of the (single) offset change in (a, b], to the second. */
  private bisect(a: number, offsetA: number, b: number): number {
    while (b - a > 1000) {
      // Whole-second steps from `a`, at least one, so the loop ends whatever the millisecond.
      const mid = a + Math.max(1, Math.floor((b - a) / 2000)) * 1000;
      if (this.raw(mid) === offsetA) a = mid;
      else b = mid;
    }
    // tz database transitions fall on whole seconds: the one whole second in (a, a + 1000].
    return Math.min(b, Math.floor(a / 1000) * 1000 + 1000);
  }

  /**
   * Asks luxon for the offset at `ts`, which no interval covers (interval `left` is the one
   * before it). Next to a known interval, it probes as far from it as {@link MAX_GAP} allows
   * instead, so runs walking forwards or backwards cost one luxon call per two days.
   */
  private probe(ts: number, left: number): number {
    if (this.los.length >= MAX_INTERVALS) {
      this.los = [];
      this.his = [];
      this.offs = [];
      left = -1;
    }
    const { los, his } = this;
    const next = left + 1;
    let at = ts;
    if (left >= 0 && ts - his[left]! <= MAX_GAP) {
      at = his[left]! + MAX_GAP;
      if (next < los.length && at >= los[next]!) at = los[next]! - 1;
    } else if (next < los.length && los[next]! - ts <= MAX_GAP) {
      at = los[next]! - MAX_GAP;
    }
    this.insert(at, left);
    const i = this.floor(ts);
    this.last = i;
    return this.offs[i]!;
  }

  /** Adds the luxon offset at `ts` after interval `left`, joining the neighbours in reach. */
  private insert(ts: number, left: number): void {
    const o = this.raw(ts);
    const { los, his, offs } = this;
    let lo = ts;
    let i = left + 1;
    if (left >= 0 && ts - his[left]! <= MAX_GAP) {
      if (offs[left] === o) {
        his[left] = ts;
        i = left;
      } else {
        lo = this.bisect(his[left]!, offs[left]!, ts);
        his[left] = lo - 1;
      }
    }
    if (i !== left) {
      los.splice(i, 0, lo);
      his.splice(i, 0, ts);
      offs.splice(i, 0, o);
    }
    const right = i + 1;
    if (right < los.length && los[right]! - his[i]! <= MAX_GAP) {
      if (offs[right] === o) {
        his[i] = his[right]!;
        los.splice(right, 1);
        his.splice(right, 1);
        offs.splice(right, 1);
      } else {
        const at = this.bisect(his[i]!, o, los[right]!);
        his[i] = at - 1;
        los[right] = at;
      }
    }
  }
}

const zones = new Map<string, ZoneRules>();

function fixedOffsetOf(name: string): number {
  const upper = name.toUpperCase();
  if (UTC_ALIASES.has(upper)) return 0;
  const etc = /^ETC\/GMT([+-])(\d{1,2})$/.exec(upper);
  // POSIX sign: Etc/GMT+5 is five hours behind UTC.
  if (etc !== null) return (etc[1] === '+' ? -1 : 1) * Number(etc[2]) * 3_600_000;
  return Number.NaN;
}

function remember(key: string, rules: ZoneRules): ZoneRules {
  if (zones.size >= MAX_ZONES) {
    const oldest = zones.keys().next().value;
    if (oldest !== undefined) zones.delete(oldest);
  }
  zones.set(key, rules);
  return rules;
}

/**
 * The rules of time zone `tz` (an IANA name), or of luxon's default zone (the system
 * zone unless the application changed `Settings.defaultZone`) when `tz` is undefined.
 *
 * @param component - function name used in the error message, e.g. `nextRun`
 * @throws ConfigError when `tz` is not a valid IANA time zone
 */
export function zoneRules(tz: string | undefined, component: string): ZoneRules {
  if (tz === undefined) return defaultZoneRules();
  const known = zones.get(tz);
  if (known !== undefined) return known;
  if (typeof tz !== 'string' || tz.length > 128 || !IANAZone.isValidZone(tz)) {
    const shown = typeof tz === 'string' ? `"${tz.slice(0, 128)}"` : String(tz);
    throw new ConfigError(
      `${component}: options.tz ${shown} is not a valid IANA time zone (e.g. "Europe/London", "UTC")`,
      'options.tz',
    );
  }
  return remember(tz, new ZoneRules(tz, IANAZone.create(tz), fixedOffsetOf(tz)));
}

/** The default zone last resolved, re-read at most once a second (asking `Intl` costs ~10 us). */
let lastDefault: { zone: Zone; rules: ZoneRules; at: number } | undefined;

function defaultZoneRules(): ZoneRules {
  const zone = Settings.defaultZone;
  const now = performance.now();
  if (lastDefault !== undefined && lastDefault.zone === zone && now - lastDefault.at < 1000) {
    return lastDefault.rules;
  }
  const rules = resolveDefault(zone);
  lastDefault = { zone, rules, at: now };
  return rules;
}

function resolveDefault(zone: Zone): ZoneRules {
  if (zone.type === 'iana' || zone.type === 'system') {
    const name = zone.name;
    const known = zones.get(name);
    if (known !== undefined) return known;
    if (IANAZone.isValidZone(name)) {
      return remember(name, new ZoneRules(name, IANAZone.create(name), fixedOffsetOf(name)));
    }
  }
  const key = `luxon:${zone.type}:${zone.name}`;
  const known = zones.get(key);
  if (known !== undefined) return known;
  return remember(
    key,
    new ZoneRules(zone.name, zone, zone.isUniversal ? zone.offset(0) * 60_000 : Number.NaN),
  );
}
