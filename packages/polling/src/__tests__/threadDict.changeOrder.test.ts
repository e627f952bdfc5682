import { describe, expect, it } from 'vitest';
import { type Entry, ThreadDict } from '../index.js';
import { virtualTime } from './helpers.js';

describe('ThreadDict: a subscriber that changes a value while told of a change', () => {
  it('every stream sees the changes in the order they happened, the latest last', async () => {
    const { clock } = virtualTime();
    const dict = new ThreadDict<number>({ clock, registry: false, read: () => 0 });
    await dict.set('a', 1);
    // A watcher clamping the value it is told of.
    dict.watch('a').subscribe((e: Entry<number>) => {
      if ((e.value ?? 0) > 10) void dict.set('a', 10);
    });
    const all: number[] = [];
    const forKey: number[] = [];
    dict.changes$.subscribe((e) => all.push(e.value as number));
    dict.watch('a').subscribe((e) => forKey.push(e.value as number));
    await dict.set('a', 50);
    expect(dict.get('a')).toBe(10);
    expect(all).toEqual([50, 10]);
    expect(forKey).toEqual([1, 50, 10]);
    await dict.kill();
  });
});
