import type { RequestHandle, RequestInfo } from '../index.js';

/** Fixture executors, by name. */
export const fixture = (name: 'basic' | 'alt' | 'broken'): URL =>
  new URL(`./fixtures/${name}.ts`, import.meta.url);

/** Waits for a request to settle, whatever the outcome, and returns its info. */
export async function settled<R>(handle: RequestHandle<R>): Promise<RequestInfo<R>> {
  await handle.then(
    () => undefined,
    () => undefined,
  );
  return handle.info();
}

/** A shared cell a `block` handler waits on, and the function that releases it. */
export function gate(): { cell: Int32Array; open: () => void } {
  const cell = new Int32Array(new SharedArrayBuffer(4));
  return {
    cell,
    open: () => {
      Atomics.store(cell, 0, 1);
      Atomics.notify(cell, 0);
    },
  };
}
