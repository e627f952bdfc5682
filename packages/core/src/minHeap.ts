/**
 * A binary min-heap of numbers. The scheduler keeps one key per due
 * millisecond in it, so it stays small however many timers there are.
 * @internal
 */
export class MinHeap {
  private readonly items: number[] = [];

  /** Number of keys held. */
  get size(): number {
    return this.items.length;
  }

  /** The smallest key; `Infinity` when empty. */
  peek(): number {
    return this.items.length > 0 ? this.items[0]! : Number.POSITIVE_INFINITY;
  }

  /** Adds a key. O(log n). */
  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (p <= value) break;
      items[i] = p;
      i = parent;
    }
    items[i] = value;
  }

  /** Removes and returns the smallest key; `Infinity` when empty. O(log n). */
  pop(): number {
    const items = this.items;
    if (items.length === 0) return Number.POSITIVE_INFINITY;
    const top = items[0]!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && items[r]! < items[l]! ? r : l;
        if (items[c]! >= last) break;
        items[i] = items[c]!;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }

  /** Removes every key. */
  clear(): void {
    this.items.length = 0;
  }
}
