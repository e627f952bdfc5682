import type { ItemDiagnostics, JsonValue } from '@tickwork/core';
import type { KeyState } from './keyState.js';

/** JSON has no Infinity: limits that never apply become null. */
function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

/**
 * One key's entry in a diagnostics snapshot (`now` relative to `epoch`): its counters and, as detail,
 * its Tango-style poll status.
 * @internal
 */
export function itemDiagnostics<V>(
  state: KeyState<V>,
  now: number,
  epoch: number,
  startedAt: number,
  threaded: boolean,
  running: boolean,
): ItemDiagnostics {
  const s = state.pollStatus(now, epoch, threaded, running);
  const detail: { [key: string]: JsonValue } = {
    polled: s.polled,
    state: s.state,
    periodMs: s.periodMs,
    expireMs: finite(s.expireMs),
    timeoutMs: finite(s.timeoutMs),
    lastReadAt: s.lastReadAt,
    lastReadMs: s.lastReadMs,
    sampledAt: s.sampledAt,
    ageMs: s.ageMs,
    deltasMs: s.deltasMs,
    consecutiveErrors: s.consecutiveErrors,
    lastError: s.lastError === null ? null : { ...s.lastError },
  };
  return { name: state.key, stats: state.stats(epoch, startedAt), detail };
}
