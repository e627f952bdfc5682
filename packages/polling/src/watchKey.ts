import { Observable, Subject } from 'rxjs';
import type { KeyState } from './keyState.js';
import type { Entry } from './threadDictTypes.js';

/**
 * The Observable behind `ThreadDict.watch`: on subscription it looks the key
 * up (so a key appended after `watch()` was called is found), emits the
 * current entry, then follows the key's Subject, which is made on first
 * subscription only, so unwatched keys cost nothing per poll.
 * @internal
 */
export function watchKey<V>(
  lookup: () => KeyState<V> | undefined,
  entryOf: (state: KeyState<V>) => Entry<V>,
  alive: () => boolean,
  notFound: () => Error,
): Observable<Entry<V>> {
  return new Observable<Entry<V>>((subscriber) => {
    const state = lookup();
    if (state === undefined) {
      subscriber.error(notFound());
      return undefined;
    }
    subscriber.next(entryOf(state));
    if (!alive()) {
      subscriber.complete();
      return undefined;
    }
    if (subscriber.closed) return undefined;
    const extra = state.more();
    extra.subject ??= new Subject<Entry<V>>();
    return extra.subject.subscribe(subscriber);
  });
}
