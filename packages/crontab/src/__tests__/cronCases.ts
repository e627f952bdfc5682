import fc from 'fast-check';
import { IANAZone } from 'luxon';

/*
 * Generators shared by the differential and property tests: cron expressions that both
 * tickwork and croner accept, zones with unusual DST rules, and start instants that land
 * near DST transitions often.
 */

/** Zones of the differential test: the six, plus a few with odd transitions. */
export const ZONES = [
  'UTC',
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe', // 30-minute DST shift
  'Asia/Kolkata', // +05:30, no DST
  'Pacific/Chatham', // +12:45 / +13:45, transitions at 02:45 local
  'America/Santiago', // transitions at midnight
  'America/Havana', // transitions at midnight / 01:00
  'Africa/Casablanca', // DST suspended during Ramadan
  'America/St_Johns', // -03:30
  'Asia/Kathmandu', // +05:45
  'Europe/Berlin',
] as const;

export const FROM = Date.UTC(2020, 0, 1);
export const TO = Date.UTC(2036, 0, 1);

/**
 * Offset transitions of `zone` between FROM and TO, to the second: found day by day with
 * luxon, then bisected. Independent of the package's own zone cache.
 */
export function transitionsOf(zone: string): number[] {
  const z = IANAZone.create(zone);
  const out: number[] = [];
  let prev = z.offset(FROM);
  for (let t = FROM + 86_400_000; t <= TO; t += 86_400_000) {
    const o = z.offset(t);
    if (o === prev) continue;
    let lo = t - 86_400_000;
    let hi = t;
    while (hi - lo > 1000) {
      const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
      if (z.offset(mid) === prev) lo = mid;
      else hi = mid;
    }
    out.push(hi);
    prev = o;
  }
  return out;
}

const int = (min: number, max: number) => fc.integer({ min, max });

/** A value of a field, biased towards the hours and minutes where DST transitions happen. */
function value(min: number, max: number, favourites: readonly number[]): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 2, arbitrary: int(min, max) },
    { weight: 3, arbitrary: fc.constantFrom(...favourites) },
  );
}

function ordered(a: fc.Arbitrary<number>, b: fc.Arbitrary<number>): fc.Arbitrary<[number, number]> {
  return fc.tuple(a, b).map(([x, y]) => (x <= y ? [x, y] : [y, x]));
}

/** A plain numeric field: `*`, `?`, values, lists, ranges and the three step forms. */
function numericField(
  min: number,
  max: number,
  favourites: readonly number[],
): fc.Arbitrary<string> {
  const v = value(min, max, favourites);
  const span = max - min + 1;
  const item = fc.oneof(
    { weight: 4, arbitrary: v.map(String) },
    { weight: 2, arbitrary: ordered(v, v).map(([a, b]) => `${a}-${b}`) },
    {
      weight: 1,
      arbitrary: fc.tuple(ordered(v, v), int(1, span)).map(([[a, b], n]) => `${a}-${b}/${n}`),
    },
    { weight: 1, arbitrary: fc.tuple(v, int(1, span)).map(([a, n]) => `${a}/${n}`) },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('*') },
    { weight: 1, arbitrary: fc.constant('?') },
    { weight: 2, arbitrary: int(1, Math.min(span, 30)).map((n) => `*/${n}`) },
    {
      weight: 6,
      arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }).map((xs) => xs.join(',')),
    },
  );
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function anyCase(word: string): fc.Arbitrary<string> {
  return fc.constantFrom(word, word.toLowerCase(), word[0] + word.slice(1).toLowerCase());
}

const monthField: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: numericField(1, 12, [2, 3, 4, 9, 10, 11]) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        int(0, 11).chain((i) => anyCase(MONTHS[i]!)),
        { minLength: 1, maxLength: 3 },
      )
      .map((xs) => xs.join(',')),
  },
  {
    weight: 1,
    arbitrary: ordered(int(0, 11), int(0, 11)).chain(([a, b]) =>
      fc.tuple(anyCase(MONTHS[a]!), anyCase(MONTHS[b]!)).map(([x, y]) => `${x}-${y}`),
    ),
  },
);

const dayOfMonthField: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: numericField(1, 31, [1, 8, 15, 28, 29, 30, 31]) },
  { weight: 1, arbitrary: fc.constantFrom('L', 'l', 'LW', 'lw') },
  {
    weight: 2,
    arbitrary: fc
      .array(
        fc.oneof(
          value(1, 31, [1, 2, 15, 28, 29, 30, 31]).map((d) => `${d}W`),
          fc.constant('L'),
          value(1, 31, [1, 15, 31]).map(String),
          fc.constant('*'),
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((xs) => xs.join(',')),
  },
);

const weekday = fc.oneof(
  { weight: 3, arbitrary: int(0, 7).map(String) },
  { weight: 1, arbitrary: int(0, 6).chain((i) => anyCase(DAYS[i]!)) },
);

const dayOfWeekField: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constant('*') },
  { weight: 1, arbitrary: fc.constant('?') },
  {
    weight: 6,
    arbitrary: fc
      .array(
        fc.oneof(
          { weight: 3, arbitrary: weekday },
          { weight: 2, arbitrary: ordered(int(0, 7), int(0, 7)).map(([a, b]) => `${a}-${b}`) },
          { weight: 1, arbitrary: fc.tuple(int(0, 7), int(1, 7)).map(([a, n]) => `${a}/${n}`) },
          {
            weight: 1,
            // 7 is SUN again: MON-SUN runs through Sunday
            arbitrary: ordered(int(0, 7), int(0, 7)).chain(([a, b]) =>
              fc.tuple(anyCase(DAYS[a % 7]!), anyCase(DAYS[b % 7]!)).map(([x, y]) => `${x}-${y}`),
            ),
          },
          { weight: 1, arbitrary: int(1, 7).map((n) => `*/${n}`) },
          { weight: 2, arbitrary: fc.tuple(weekday, int(1, 5)).map(([d, n]) => `${d}#${n}`) },
          { weight: 2, arbitrary: weekday.map((d) => `${d}L`) },
          { weight: 1, arbitrary: weekday.map((d) => `${d}#L`) },
        ),
        { minLength: 1, maxLength: 3 },
      )
      .map((xs) => xs.join(',')),
  },
);

/** A field without `*`, `?` or step: what makes a fixed-time job. */
function fixedField(min: number, max: number, favourites: readonly number[]): fc.Arbitrary<string> {
  const v = value(min, max, favourites);
  const item = fc.oneof(
    { weight: 5, arbitrary: v.map(String) },
    { weight: 1, arbitrary: ordered(v, v).map(([a, b]) => `${a}-${b}`) },
  );
  return fc.array(item, { minLength: 1, maxLength: 2 }).map((xs) => xs.join(','));
}

function expression(
  time: (min: number, max: number, fav: readonly number[]) => fc.Arbitrary<string>,
) {
  return fc
    .tuple(
      fc.option(time(0, 59, [0, 30, 59]), { freq: 2, nil: undefined }),
      time(0, 59, [0, 15, 30, 45, 59]),
      time(0, 23, [0, 1, 2, 3, 23]),
      dayOfMonthField,
      monthField,
      dayOfWeekField,
    )
    .map(([s, ...rest]) => (s === undefined ? rest : [s, ...rest]).join(' '));
}

/**
 * A 5- or 6-field expression using every feature both libraries support; about a third are
 * fixed-time jobs, whose DST handling differs.
 */
export const expressionArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: expression(numericField) },
  { weight: 1, arbitrary: expression(fixedField) },
);

/** Nicknames, mixed in now and then. */
export const nicknameArb = fc.constantFrom(
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
  '@DAILY',
);

/** A start instant: uniform over 2020-2035, or within 36 h of one of the zone's transitions. */
export function startArb(transitions: readonly number[]): fc.Arbitrary<number> {
  const uniform = fc.integer({ min: FROM, max: TO - 1 });
  if (transitions.length === 0) return uniform;
  const near = fc
    .tuple(
      fc.constantFrom(...transitions),
      fc.integer({ min: -36 * 3_600_000, max: 36 * 3_600_000 }),
    )
    .map(([t, d]) => t + d);
  const exact = fc
    .tuple(fc.constantFrom(...transitions), fc.constantFrom(-1000, -1, 0, 1, 3_600_000 - 1))
    .map(([t, d]) => t + d);
  return fc.oneof(
    { weight: 3, arbitrary: uniform },
    { weight: 4, arbitrary: near },
    { weight: 1, arbitrary: exact },
  );
}
