import { CronSyntaxError } from '@tickwork/core';
import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { parseCronPattern } from '../cronPattern.js';
import { matches, nextRun, nextRuns, previousRun, previousRuns } from '../nextRun.js';
import { expressionArb, startArb, transitionsOf, ZONES } from './cronCases.js';

const FIELDS = ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'expression'];
const SEED = 424_242;

/** Strings that look like cron: its alphabet, plus valid expressions with a few edits. */
const cronish = fc.oneof(
  fc.string({
    unit: fc.constantFrom(...'0123456789*/,-?#LWlw@ \tJANFEBMONSUNFRIxyz.+'.split('')),
    maxLength: 60,
  }),
  fc
    .tuple(expressionArb, fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 2 }), fc.nat(3))))
    .map(([e, edits]) =>
      edits.reduce((s, [at, insert, drop]) => {
        const i = at % (s.length + 1);
        return s.slice(0, i) + insert + s.slice(i + drop);
      }, e),
    ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'grapheme', maxLength: 50 }),
);

describe('parser properties', () => {
  it('returns a pattern or throws CronSyntaxError with a field and a position in the input', () => {
    fc.assert(
      fc.property(cronish, (input) => {
        const started = performance.now();
        try {
          const p = parseCronPattern(input);
          expect(Object.isFrozen(p)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(CronSyntaxError);
          const err = e as CronSyntaxError;
          expect(FIELDS).toContain(err.field);
          expect(err.position).toBeGreaterThanOrEqual(0);
          expect(err.position).toBeLessThanOrEqual(input.length);
          expect(err.message.startsWith('CronPattern: ')).toBe(true);
        }
        expect(performance.now() - started).toBeLessThan(100);
      }),
      { seed: SEED, numRuns: 3000 },
    );
  });

  it('takes bounded time on huge and adversarial input', () => {
    for (const input of [
      '1'.repeat(1_000_000),
      `${'1,'.repeat(511)}1 * * * *`,
      `${'0-59/1,'.repeat(146)}0 * * * *`,
      ' '.repeat(1024),
    ]) {
      const started = performance.now();
      try {
        parseCronPattern(input);
      } catch (e) {
        expect(e).toBeInstanceOf(CronSyntaxError);
      }
      expect(performance.now() - started).toBeLessThan(200);
    }
  });
});

const transitions = new Map(ZONES.map((zone) => [zone, transitionsOf(zone)]));
const runCase = fc.constantFrom(...ZONES).chain((zone) =>
  fc.record({
    zone: fc.constant(zone),
    expression: expressionArb,
    start: startArb(transitions.get(zone)!),
  }),
);

/** A fixed-time run moved out of a spring-forward gap sits exactly on the transition. */
function isSpringForwardInstant(zone: string, t: number): boolean {
  const z = IANAZone.create(zone);
  return z.offset(t) > z.offset(t - 1);
}

describe('next-run properties', () => {
  it('nextRun(x) > x; nextRuns increases strictly; every run matches or ends a gap', () => {
    fc.assert(
      fc.property(runCase, ({ zone, expression, start }) => {
        const opts = { tz: zone };
        const first = nextRun(expression, start, opts);
        const runs = nextRuns(expression, 8, start, opts);
        expect(runs[0] ?? null).toBe(first);
        let previous = start;
        for (const run of runs) {
          expect(run).toBeGreaterThan(previous);
          expect(run % 1000).toBe(0);
          if (!matches(expression, run, opts)) {
            expect(parseCronPattern(expression).fixedTime).toBe(true);
            expect(isSpringForwardInstant(zone, run)).toBe(true);
          }
          previous = run;
        }
      }),
      { seed: SEED, numRuns: 600 },
    );
  });

  it('previousRuns decreases strictly below `before`, and the two directions agree', () => {
    fc.assert(
      fc.property(runCase, ({ zone, expression, start }) => {
        const opts = { tz: zone };
        const runs = previousRuns(expression, 5, start, opts);
        let bound = start;
        for (const run of runs) {
          expect(run).toBeLessThan(bound);
          bound = run;
        }
        // Nothing runs between the last run before x and x, nor between x and the next one.
        const before = previousRun(expression, start, opts);
        if (before !== null)
          expect(nextRun(expression, before, opts)).toBeGreaterThanOrEqual(start);
        const after = nextRun(expression, start, opts);
        if (after !== null) {
          const back = previousRun(expression, after, opts);
          if (back !== null) expect(back).toBeLessThanOrEqual(start);
        }
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('a wildcard job runs at every instant whose wall-clock time matches, and only there', () => {
    // Second by second over the window of 20 runs of dense schedules, across DST changes.
    const zoneCase = fc
      .constantFrom('UTC', 'America/New_York', 'Australia/Lord_Howe')
      .chain((zone) =>
        fc.record({
          zone: fc.constant(zone),
          expression: fc.constantFrom(
            '*/7 * * * * *',
            '0-10/3,50 * * * * *',
            '* 59 * * * *',
            '*/13 5-9 * * * *',
          ),
          start: startArb(transitions.get(zone as (typeof ZONES)[number]) ?? []),
        }),
      );
    fc.assert(
      fc.property(zoneCase, ({ zone, expression, start }) => {
        const opts = { tz: zone };
        const runs = new Set(nextRuns(expression, 20, start, opts));
        const last = Math.max(...runs);
        const wrong: string[] = [];
        for (let t = Math.floor(start / 1000) * 1000 + 1000; t <= last; t += 1000) {
          if (runs.has(t) !== matches(expression, t, opts)) wrong.push(new Date(t).toISOString());
        }
        expect(wrong).toEqual([]);
      }),
      { seed: SEED, numRuns: 60 },
    );
  });
});
