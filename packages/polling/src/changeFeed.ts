import type { Subject } from 'rxjs';
import type { Entry } from './threadDictTypes.js';

/**
 * Delivers change entries to a key's watchers and to `changes$` in the order
 * the changes happened. A subscriber may make another change while it is told
 * of one (a watcher clamping a value through `set`); delivered at once, that
 * newer change would reach the other subscribers before the older one, which
 * they would then take for the latest. Such changes wait until the one being
 * delivered has reached everyone.
 * @internal
 */
export class ChangeFeed<V> {
  private readonly all: Subject<Entry<V>>;
  private delivering = false;
  /** Changes made during a delivery: key subject (or null) and entry, side by side. */
  private readonly pending: (Subject<Entry<V>> | Entry<V> | null)[] = [];

  /** @param all - the dict-wide subject behind `changes$` */
  constructor(all: Subject<Entry<V>>) {
    this.all = all;
  }

  /** Tells the key's watchers (`forKey`, if any) and `changes$` of `entry`. */
  deliver(forKey: Subject<Entry<V>> | null, entry: Entry<V>): void {
    const pending = this.pending;
    if (this.delivering) {
      pending.push(forKey, entry);
      return;
    }
    this.delivering = true;
    try {
      forKey?.next(entry);
      this.all.next(entry);
      // Changes queued by subscribers meanwhile, including ones queued while draining.
      for (let i = 0; i < pending.length; i += 2) {
        (pending[i] as Subject<Entry<V>> | null)?.next(pending[i + 1] as Entry<V>);
        this.all.next(pending[i + 1] as Entry<V>);
      }
    } finally {
      pending.length = 0;
      this.delivering = false;
    }
  }
}
