import { existsSync } from 'node:fs';
import { Registry, TimeoutError } from '@tickwork/core';
import { VirtualClock } from '@tickwork/core/testing';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type DiagnosticsServer, serveDiagnostics } from '../serveDiagnostics.js';
import { FixtureComponent, hist, SimPoller, statsOf, T0 } from './fixtures.js';

// Debian's chromium, driven by playwright-core (no browser download). The test
// fails rather than skips without it: the dashboard is only tested here.
const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'dashboard-test-token-0123456789';
const WAIT = { timeout: 10_000 };

let browser: Browser;
const cleanup: Array<() => Promise<unknown>> = [];

const missing = !existsSync(CHROMIUM);

// Thrown per test rather than in beforeAll, where vitest would report the tests as skipped.
beforeEach(() => {
  if (missing) {
    throw new Error(
      `${CHROMIUM} not found: the dashboard test needs Debian's Chromium; run \`apt-get install chromium\``,
    );
  }
});

beforeAll(async () => {
  if (missing) return;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A running registry in virtual time: a polled dict, a ThreadedObject and a crontab. */
async function runningRegistry() {
  const registry = new Registry();
  const clock = new VirtualClock({ now: T0 });
  const plant = new SimPoller({ name: 'plant', registry, clock })
    .add('sys/tg/1/temperature', 100, { lagMs: 5, readMs: 3 })
    .add('sys/ps/1/current', 200, { lagMs: 40, readMs: 20 })
    .add('sys/ps/1/voltage', 500, { lagMs: 1, readMs: 2 })
    .start();
  new FixtureComponent('ThreadedObject', {
    name: 'heartbeat',
    registry,
    clock,
    stats: statsOf({
      count: 5,
      delay: 12,
      lastSuccess: T0,
      lateness: hist(5, 1, 5, 4, 10, 12, 12),
    }),
    detail: { periodMs: 1000 },
  }).start();
  new FixtureComponent('CronTab', {
    name: 'snapshots',
    registry,
    clock,
    items: [
      { name: 'write-snapshot', stats: statsOf({ count: 1, delay: 2 }), detail: { paused: true } },
    ],
  }).start();
  await clock.advance(1000);
  cleanup.push(() => registry.killAll());
  return { registry, clock, plant };
}

async function open(
  server: DiagnosticsServer,
  suffix = '',
): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext();
  cleanup.push(() => context.close());
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  await page.goto(`${server.url}${suffix}`);
  return { page, problems };
}

async function serve(options: Partial<Parameters<typeof serveDiagnostics>[0]>) {
  const server = await serveDiagnostics({ port: 0, ...options });
  cleanup.push(() => server.close());
  return server;
}

/** Waits for the page's next live refresh after the `seen`-th. */
const nextRefresh = (page: Page, seen: number) =>
  page.waitForSelector(`body[data-refreshes]:not([data-refreshes="${seen}"])`, {
    state: 'attached',
    ...WAIT,
  });

const keysOf = (page: Page, component: string) =>
  page.$$eval(`#items tbody tr[data-component="${component}"]`, (rows) =>
    rows.map((r) => r.getAttribute('data-key')),
  );
const cell = (page: Page, key: string, col: string) =>
  page.textContent(`#items tbody tr[data-key="${key}"] td[data-col="${col}"]`);

describe('dashboard in headless Chromium', () => {
  test('renders every component and key of a running registry', async () => {
    const { registry, clock } = await runningRegistry();
    const server = await serve({ registry, clock });
    const { page, problems } = await open(server);

    await page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);
    expect(await page.textContent('#status')).toContain('live');
    expect(
      await page.$$eval('#components tbody tr', (rows) =>
        rows.map((r) => r.getAttribute('data-component')),
      ),
    ).toEqual(['plant', 'heartbeat', 'snapshots']);
    expect(
      await page.textContent('#components tbody tr[data-component="plant"] td[data-col="items"]'),
    ).toBe('3');
    // Every schedulable thing, latest first: a ThreadedObject is a row of its own.
    expect(
      await page.$$eval('#items tbody tr', (rows) =>
        rows.map((r) => `${r.getAttribute('data-component')}/${r.getAttribute('data-key')}`),
      ),
    ).toEqual([
      'plant/sys/ps/1/current',
      'heartbeat/',
      'plant/sys/tg/1/temperature',
      'snapshots/write-snapshot',
      'plant/sys/ps/1/voltage',
    ]);
    expect(await cell(page, 'sys/ps/1/current', 'period')).toBe('200 ms');
    expect(await cell(page, 'sys/ps/1/current', 'lateness')).toBe('40 ms');
    // Reads at +200 ... +800 finished; the one started at +1000 is still going.
    expect(await cell(page, 'sys/ps/1/current', 'runs')).toBe('4');
    expect(await cell(page, 'sys/ps/1/current', 'usage')).toBe('10%');
    // Its last read started at +1000 and ends at +1020: the value is from +820.
    expect(await cell(page, 'sys/ps/1/current', 'age')).toBe('180 ms');
    expect(await cell(page, 'sys/ps/1/voltage', 'errors')).toBe('0');
    expect(await cell(page, 'sys/ps/1/voltage', 'lastError')).toBe('');
    expect(await cell(page, 'write-snapshot', 'state')).toBe('paused');
    expect(await page.textContent('#counts')).toContain(
      '3 components · 5 scheduled · 0 failing · 0 stale',
    );
    expect(await page.textContent('#process')).toContain(`pid ${process.pid}`);
    expect(problems).toEqual([]);
  });

  test('sorts by a column on click, both ways', async () => {
    const { registry, clock } = await runningRegistry();
    const server = await serve({ registry, clock });
    const { page } = await open(server, '?refresh=200');
    await page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);

    const lateness = page.locator('#items thead th[data-col="lateness"]');
    expect(await lateness.getAttribute('aria-sort')).toBe('descending');
    expect(await keysOf(page, 'plant')).toEqual([
      'sys/ps/1/current',
      'sys/tg/1/temperature',
      'sys/ps/1/voltage',
    ]);

    await lateness.locator('button').click();
    expect(
      await page.locator('#items thead th[data-col="lateness"]').getAttribute('aria-sort'),
    ).toBe('ascending');
    expect(await keysOf(page, 'plant')).toEqual([
      'sys/ps/1/voltage',
      'sys/tg/1/temperature',
      'sys/ps/1/current',
    ]);

    await page.locator('#items thead th[data-col="key"] button').click();
    expect(await keysOf(page, 'plant')).toEqual([
      'sys/ps/1/current',
      'sys/ps/1/voltage',
      'sys/tg/1/temperature',
    ]);

    // The order survives live refreshes.
    const seen = Number(await page.getAttribute('body', 'data-refreshes'));
    await nextRefresh(page, seen);
    expect(await keysOf(page, 'plant')).toEqual([
      'sys/ps/1/current',
      'sys/ps/1/voltage',
      'sys/tg/1/temperature',
    ]);
  });

  test('a key that starts failing shows its error within one refresh', async () => {
    const { registry, clock, plant } = await runningRegistry();
    const server = await serve({ registry, clock });
    const { page, problems } = await open(server);
    await page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);
    const before = Number(await page.getAttribute('body', 'data-refreshes'));

    plant.fail('sys/ps/1/voltage', new TimeoutError('voltage read timed out after 50 ms', 50));
    // Fails the read in flight (ends at +1002) and the next one (+1500 to +1502).
    await clock.advance(502);

    const row = '#items tbody tr[data-key="sys/ps/1/voltage"]';
    await page.waitForSelector(`${row}.failing`, WAIT);
    // The refresh in flight when the key failed may carry the older snapshot; the next one has it.
    const after = Number(await page.getAttribute('body', 'data-refreshes'));
    expect(after - before).toBeLessThanOrEqual(2);
    expect(await cell(page, 'sys/ps/1/voltage', 'lastError')).toBe(
      'TimeoutError: voltage read timed out after 50 ms · 0.00 ms ago',
    );
    expect(await page.getAttribute(`${row} td[data-col="lastError"]`, 'title')).toBe(
      `ERR_TIMEOUT at ${new Date(T0 + 1502).toISOString()}`,
    );
    expect(await cell(page, 'sys/ps/1/voltage', 'errors')).toBe('2');
    expect(await page.textContent('#counts')).toContain('1 failing');
    expect(problems).toEqual([]);
  });

  test('filters by text and by problems, across refreshes', async () => {
    const { registry, clock, plant } = await runningRegistry();
    plant.fail('sys/tg/1/temperature', new Error('sensor unplugged'));
    await clock.advance(100);
    const server = await serve({ registry, clock });
    const { page } = await open(server, '?refresh=200');
    await page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);
    const itemKeys = () =>
      page.$$eval('#items tbody tr', (rows) => rows.map((r) => r.getAttribute('data-key')));

    await page.fill('#filter', 'PS/1');
    expect((await itemKeys()).sort()).toEqual(['sys/ps/1/current', 'sys/ps/1/voltage']);
    await page.fill('#filter', 'unplugged');
    expect(await itemKeys()).toEqual(['sys/tg/1/temperature']);
    await page.fill('#filter', 'heartbeat');
    expect(await itemKeys()).toEqual(['']);
    expect(await page.$$eval('#components tbody tr', (rows) => rows.length)).toBe(1);
    await page.fill('#filter', '');
    await page.check('#problems');
    expect(await itemKeys()).toEqual(['sys/tg/1/temperature']);
    const seen = Number(await page.getAttribute('body', 'data-refreshes'));
    await nextRefresh(page, seen);
    expect(await itemKeys()).toEqual(['sys/tg/1/temperature']);
  });

  test('with a token, asks for it, or takes it from the fragment and keeps it out of the URL', async () => {
    const { registry, clock } = await runningRegistry();
    const server = await serve({ registry, clock, token: TOKEN });

    const { page } = await open(server);
    await page.waitForSelector('#auth:not([hidden])', WAIT);
    expect(await page.textContent('#status')).toBe('token required');
    expect(await page.$$eval('#items tbody tr', (rows) => rows.length)).toBe(0);
    await page.fill('#token', TOKEN);
    await page.click('#auth button');
    await page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);
    expect(await page.isHidden('#auth')).toBe(true);

    const second = await open(server, `#token=${TOKEN}`);
    await second.page.waitForSelector('#items tbody tr[data-key="sys/ps/1/voltage"]', WAIT);
    expect(second.page.url()).toBe(server.url);
    expect(second.problems).toEqual([]);
  });
});
