import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../errors.js';
import { Stats, USAGE_WINDOW } from '../stats.js';

describe('Stats', () => {
  it('starts empty', () => {
    const s = new Stats(100).snapshot();
    expect(s).toMatchObject({
      count: 0,
      errors: 0,
      lastError: null,
      lastSuccess: null,
      delay: 0,
      accDelay: 0,
      avgDelay: 0,
      usage: 0,
      next: null,
      last: null,
      started: null,
      skipped: 0,
      missed: 0,
      running: 0,
    });
    expect(s.duration).toEqual({ count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 });
  });

  it('an abandoned run leaves running without counting as finished', () => {
    const stats = new Stats(100);
    stats.reset(1_000);
    stats.runStarted(1_100, 1_100);
    stats.runStarted(1_200, 1_200);
    stats.runAbandoned();
    expect(stats.snapshot()).toMatchObject({ running: 1, count: 0, errors: 0 });
    stats.runAbandoned();
    stats.runAbandoned(); // never below zero
    expect(stats.snapshot()).toMatchObject({ running: 0, count: 0 });
  });

  it('accumulates delays, counts, errors and the last error', () => {
    const stats = new Stats(100);
    stats.reset(1_000);
    stats.runStarted(1_100, 1_102);
    expect(stats.snapshot().running).toBe(1);
    stats.runFinished(1_102, 10);
    stats.runStarted(1_200, 1_206);
    stats.runFinished(1_206, 30, true, new TimeoutError('read timed out', 25));
    stats.runStarted(1_300, 1_290); // early start counts as no delay
    stats.runFinished(1_290, 20);
    stats.skip();
    stats.miss(3);
    stats.next = 1_400;
    const s = stats.snapshot();
    expect(s.count).toBe(3);
    expect(s.errors).toBe(1);
    expect(s.delay).toBe(0);
    expect(s.accDelay).toBe(8);
    expect(s.avgDelay).toBeCloseTo(8 / 3);
    expect(s.lastError).toEqual({
      name: 'TimeoutError',
      message: 'read timed out',
      code: 'ERR_TIMEOUT',
      at: 1_236,
    });
    expect(s.lastSuccess).toBe(1_310);
    expect(s.last).toBe(1_290);
    expect(s.started).toBe(1_000);
    expect(s.next).toBe(1_400);
    expect(s.skipped).toBe(1);
    expect(s.missed).toBe(3);
    expect(s.running).toBe(0);
    expect(s.usage).toBeCloseTo(20 / 100);
  });

  it('records duration and lateness histograms in ms with percentiles', () => {
    const stats = new Stats(1_000);
    for (let i = 1; i <= 100; i++) {
      stats.runStarted(0, i / 10); // lateness 0.1 .. 10 ms
      stats.runFinished(0, i); // durations 1 .. 100 ms
    }
    const { duration, lateness } = stats.snapshot();
    expect(duration.count).toBe(100);
    expect(duration.min).toBeCloseTo(1, 1);
    expect(duration.max).toBeCloseTo(100, 0);
    expect(duration.p50).toBeCloseTo(50, 0);
    expect(duration.p90).toBeCloseTo(90, 0);
    expect(duration.p99).toBeCloseTo(99, 0);
    expect(duration.mean).toBeCloseTo(50.5, 0);
    expect(lateness.p50).toBeCloseTo(5, 1);
    expect(lateness.max).toBeCloseTo(10, 1);
  });

  it('measures usage over the last runs only, above 1 when overrunning', () => {
    const stats = new Stats(100);
    for (let i = 0; i < 50; i++) stats.runFinished(i * 100, 10);
    expect(stats.usage()).toBeCloseTo(0.1);
    for (let i = 0; i < USAGE_WINDOW; i++) stats.runFinished(5_000 + i * 100, 150);
    expect(stats.usage()).toBeCloseTo(1.5);
  });

  it('measures usage against the interval between starts when there is no period', () => {
    const stats = new Stats();
    stats.runFinished(0, 5);
    expect(stats.usage()).toBe(0);
    stats.runFinished(50, 5);
    stats.runFinished(100, 5);
    expect(stats.usage()).toBeCloseTo(0.1);
  });

  it('reset zeroes counters and histograms and marks the start', () => {
    const stats = new Stats(10);
    stats.runStarted(0, 5);
    stats.runFinished(5, 1, true, 'plain string');
    expect(stats.snapshot().lastError).toEqual({ name: 'Error', message: 'plain string', at: 6 });
    stats.skip(2);
    stats.reset(99);
    const s = stats.snapshot();
    expect(s).toMatchObject({
      count: 0,
      errors: 0,
      skipped: 0,
      accDelay: 0,
      lastError: null,
      started: 99,
      usage: 0,
    });
    expect(s.lateness.count).toBe(0);
  });
});
