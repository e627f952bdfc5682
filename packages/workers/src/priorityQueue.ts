/** What {@link PriorityQueue} needs of an item. */
export interface Prioritized {
  /** Higher runs first. */
  readonly priority: number;
  /** Whether the item is in a queue; the queue keeps it up to date. */
  inQueue: boolean;
}

/** The items of one priority, first in first out. */
class Bucket<T> {
  items: T[] = [];
  head = 0;
  live = 0;

  constructor(readonly priority: number) {}
}

/**
 * The queue in front of the thread pool: highest priority first, and within
 * a priority first in, first out (in the order items became ready to run).
 * One FIFO per distinct priority, the priorities kept sorted, so push and pop
 * are O(1) however long the queue (apps use a handful of priorities; a new
 * priority costs one sorted insert, and empty FIFOs are kept for reuse unless
 * there are many). `remove` only marks the item, which is skipped when it
 * comes up; a FIFO's consumed prefix and marked items are dropped now and
 * then, so mass cancels do not hold memory.
 */
export class PriorityQueue<T extends Prioritized> {
  private readonly buckets = new Map<number, Bucket<T>>();
  /** Buckets by priority, highest first. */
  private order: Bucket<T>[] = [];
  private live = 0;

  /** Items waiting (removed ones not counted). */
  get size(): number {
    return this.live;
  }

  /** Adds an item behind the others of its priority. */
  push(item: T): void {
    let bucket = this.buckets.get(item.priority);
    if (bucket === undefined) {
      bucket = new Bucket<T>(item.priority);
      this.buckets.set(item.priority, bucket);
      let i = 0;
      while (i < this.order.length && this.order[i]!.priority > item.priority) i++;
      this.order.splice(i, 0, bucket);
    }
    bucket.items.push(item);
    bucket.live++;
    item.inQueue = true;
    this.live++;
  }

  /** Removes and returns the first item, or `undefined` when empty. */
  pop(): T | undefined {
    const bucket = this.first();
    if (bucket === undefined) return undefined;
    const item = bucket.items[bucket.head]!;
    bucket.head++;
    bucket.live--;
    item.inQueue = false;
    this.live--;
    if (bucket.live === 0) this.emptied(bucket);
    return item;
  }

  /** The first item without removing it. */
  peek(): T | undefined {
    const bucket = this.first();
    return bucket === undefined ? undefined : bucket.items[bucket.head];
  }

  /** The highest non-empty bucket, its head on a live item. */
  private first(): Bucket<T> | undefined {
    if (this.live === 0) return undefined;
    for (const bucket of this.order) {
      if (bucket.live === 0) continue;
      const items = bucket.items;
      while (!items[bucket.head]!.inQueue) bucket.head++;
      if (bucket.head >= 1024 && bucket.head * 2 >= items.length) {
        bucket.items = items.slice(bucket.head);
        bucket.head = 0;
      }
      return bucket;
    }
    return undefined;
  }

  /** Takes `item` out of the queue; false when it was not in it. */
  remove(item: T): boolean {
    if (!item.inQueue) return false;
    item.inQueue = false;
    this.live--;
    const bucket = this.buckets.get(item.priority)!;
    bucket.live--;
    if (bucket.live === 0) this.emptied(bucket);
    else if (bucket.items.length - bucket.head > 2 * bucket.live + 64) {
      bucket.items = bucket.items.slice(bucket.head).filter((i) => i.inQueue);
      bucket.head = 0;
    }
    return true;
  }

  /** Removes every item and returns the live ones in queue order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.pop(); item !== undefined; item = this.pop()) out.push(item);
    return out;
  }

  private emptied(bucket: Bucket<T>): void {
    bucket.items.length = 0;
    bucket.head = 0;
    // Kept for the next item of its priority, unless priorities pile up.
    if (this.order.length > 16) {
      this.buckets.delete(bucket.priority);
      this.order.splice(this.order.indexOf(bucket), 1);
    }
  }
}
