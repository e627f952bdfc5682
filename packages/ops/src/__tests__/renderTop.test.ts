import { Registry } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { describe, expect, test } from 'vitest';
import type { DiagnosticsSnapshot } from '../diagnosticsSnapshot.js';
import { renderTop } from '../renderTop.js';
import { snapshot } from '../snapshot.js';
import { byLateness, snapshotRows } from '../snapshotRows.js';
import { FixtureComponent, knownComponents, statsOf, T0 } from './fixtures.js';

/** The known registry's snapshot, with the process part fixed so the text is exact. */
function knownDoc(): DiagnosticsSnapshot {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  knownComponents(registry, clock);
  return fixProcess(snapshot(registry, { clock }));
}

function fixProcess(doc: DiagnosticsSnapshot): DiagnosticsSnapshot {
  return {
    ...doc,
    process: {
      pid: 4242,
      uptimeMs: 1000,
      node: 'v20.20.0',
      memory: { rss: 52_428_800, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 },
    },
  };
}

const ESC = '\x1b';

describe('renderTop', () => {
  test('prints the known registry as a table, latest first', () => {
    const text = renderTop(knownDoc(), { width: 120, source: 'http://127.0.0.1:9464/diagnostics' });
    expect(text).toBe(
      [
        'tickwork top · 2026-01-01T00:00:00.000Z · pid 4242 · rss 50.0 MiB · http://127.0.0.1:9464/diagnostics',
        '5 components · 7 scheduled · 1 failing · 1 stale',
        '',
        'COMPONENT KEY                  STATE    PERIOD    AGE   LATE    P99 USAGE   RUNS   ERR LAST ERROR',
        'plant     sys/ps/1/current     backoff   500ms   2.0s   12ms      -   60%      8     4 TimeoutError: read timed out aft…',
        'plant     sys/ps/1/voltage     idle       2.0s   6.0s 7.00ms      -    1%      2     0',
        'plant     sys/tg/1/temperature idle      100ms   50ms 1.00ms 3.00ms    5%     20     0',
        'heartbeat                      running    1.0s  400ms 0.50ms      -    0%      5     0',
        'analysis  waveformStats        running       -  100ms 0.00ms      -    0%     12     2',
        'bridge                         idle          -      - 0.00ms      -    0%      0     0',
        'snapshots write-snapshot       running       -  1m00s 0.00ms      -    0%      3     0',
      ].join('\n'),
    );
  });

  test('gives the last error the room a wide terminal has', () => {
    const lines = renderTop(knownDoc(), { width: 160 }).split('\n');
    expect(lines[4]).toBe(
      'plant     sys/ps/1/current     backoff   500ms   2.0s   12ms      -   60%      8     4 TimeoutError: read timed out after 50 ms (200ms ago)',
    );
  });

  test('never prints a line wider than the terminal', () => {
    const doc = knownDoc();
    for (let width = 20; width <= 200; width += 7) {
      for (const line of renderTop(doc, { width }).split('\n')) {
        expect(line.length, `width ${width}: ${line}`).toBeLessThanOrEqual(width);
      }
    }
    // Narrow: the last error goes, then key and component shrink.
    expect(renderTop(doc, { width: 80 }).split('\n')[3]).toBe(
      'COMPONENT KEY            STATE    PERIOD    AGE   LATE    P99 USAGE   RUNS   ERR',
    );
    // Keys lose their head, not the tail that tells them apart.
    expect(renderTop(doc, { width: 80 }).split('\n')[4]).toMatch(
      /^plant {5}…\/ps\/1\/current backoff/,
    );
    // Narrower still, the less telling numbers go; lateness and errors stay.
    expect(renderTop(doc, { width: 40 }).split('\n').slice(3, 5)).toEqual([
      'COMPONENT KEY           AGE   LATE   ERR',
      'plant     …1/current   2.0s   12ms     4',
    ]);
  });

  test('fits a terminal height, summarising the rest', () => {
    const lines = renderTop(knownDoc(), { width: 100, height: 7 }).split('\n');
    expect(lines).toHaveLength(7);
    expect(lines.slice(4)).toEqual([
      expect.stringMatching(/^plant +sys\/ps\/1\/current/),
      expect.stringMatching(/^plant +sys\/ps\/1\/voltage/),
      '… 5 more',
    ]);
  });

  test('colours failing rows red and stale rows yellow only when asked', () => {
    const doc = knownDoc();
    expect(renderTop(doc)).not.toContain(ESC);
    const lines = renderTop(doc, { color: true, width: 100 }).split('\n');
    const plain = renderTop(doc, { width: 100 }).split('\n');
    // The header becomes an inverse bar across the whole width.
    expect(lines[3]).toBe(`${ESC}[1;7m${plain[3]!.padEnd(100)}${ESC}[0m`);
    expect(lines[4]).toBe(`${ESC}[31m${plain[4]}${ESC}[0m`);
    expect(plain[4]).toMatch(/^plant +sys\/ps\/1\/current /);
    expect(lines[5]).toBe(`${ESC}[33m${plain[5]}${ESC}[0m`);
    expect(plain[5]).toMatch(/^plant +sys\/ps\/1\/voltage /);
    expect(lines[6]).toBe(plain[6]);
  });

  test('neutralises control characters in names and messages', () => {
    const registry = new Registry();
    const clock = new VirtualClock({ now: T0 });
    new FixtureComponent('ThreadDict', {
      name: `evil${ESC}[2J`,
      registry,
      clock,
      items: [
        {
          name: `key${ESC}]0;pwned\x07`,
          stats: statsOf({
            errors: 1,
            lastError: { name: 'Error', message: `line1\nline2${ESC}[31m`, at: T0 },
          }),
        },
      ],
    });
    const text = renderTop(fixProcess(snapshot(registry, { clock })), { width: 200 });
    expect(text).not.toContain(ESC);
    expect(text).not.toContain('\x07');
    expect(text).toContain('evil?[2J');
    expect(text).toContain('Error: line1 line2?[31m');
  });

  test('says so when nothing is scheduled', () => {
    const doc = fixProcess(snapshot(new Registry(), { clock: new VirtualClock({ now: T0 }) }));
    expect(renderTop(doc).split('\n').slice(1)).toEqual([
      '0 components · 0 scheduled · 0 failing · 0 stale',
      '',
      'COMPONENT KEY STATE    PERIOD    AGE   LATE    P99 USAGE   RUNS   ERR LAST ERROR',
      '(nothing scheduled)',
    ]);
  });
});

describe('snapshotRows', () => {
  test('makes one row per item, and one per component without items', () => {
    const rows = snapshotRows(knownDoc());
    expect(rows.map((r) => `${r.component}/${r.key}`)).toEqual([
      'plant/sys/tg/1/temperature',
      'plant/sys/ps/1/current',
      'plant/sys/ps/1/voltage',
      'heartbeat/',
      'analysis/waveformStats',
      'snapshots/write-snapshot',
      'bridge/',
    ]);
    expect(rows[1]).toMatchObject({
      kind: 'ThreadDict',
      state: 'backoff',
      periodMs: 500,
      ageMs: 2000,
      latenessMs: 12,
      latenessP99Ms: null,
      failing: true,
      stale: false,
    });
    expect(rows.sort(byLateness).map((r) => r.latenessMs)).toEqual([12, 7, 1, 0.5, 0, 0, 0]);
  });
});
