import fc from 'fast-check';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { ZoneRules } from '../zoneRules.js';
import { FROM, TO, transitionsOf, ZONES } from './cronCases.js';

const fresh = (name: string) => new ZoneRules(name, IANAZone.create(name), Number.NaN);

describe('ZoneRules', () => {
  it('gives the same offsets as luxon, whatever the order of the questions', () => {
    for (const name of ZONES) {
      const luxon = IANAZone.create(name);
      const rules = fresh(name);
      const probes = fc.sample(
        fc.oneof(
          fc.integer({ min: FROM, max: TO }),
          fc
            .tuple(
              fc.constantFrom(...(transitionsOf(name).length ? transitionsOf(name) : [FROM])),
              fc.integer({ min: -5000, max: 5000 }),
            )
            .map(([t, d]) => t + d),
        ),
        { seed: name.length, numRuns: 400 },
      );
      for (const t of probes)
        expect([name, t, rules.offset(t)]).toEqual([name, t, luxon.offset(t) * 60_000]);
    }
  });

  it('finds each transition to the second', () => {
    for (const name of ZONES) {
      const rules = fresh(name);
      for (const at of transitionsOf(name)) {
        expect(rules.transitionAfter(at - 3_600_000)).toBe(at);
        expect(rules.transitionAfter(at - 1)).toBe(at);
        expect(Number.isNaN(rules.transitionAfter(at))).toBe(true);
      }
    }
  });
});
