/**
 * What happens when a run is still going when the next one is due, the same
 * in every component:
 * - `'skip'` (the default everywhere): that slot is skipped and counted in
 *   `Stats.skipped`;
 * - `'queue'`: one run is made right after the current one finishes (further
 *   slots while one is queued are skipped and counted);
 * - `'parallel'`: the run starts anyway.
 *
 * Runs never pile up silently.
 */
export type OverrunPolicy = 'skip' | 'queue' | 'parallel';

/** Every {@link OverrunPolicy}, for validation with `checkOneOf`. */
export const OVERRUN_POLICIES: readonly OverrunPolicy[] = Object.freeze([
  'skip',
  'queue',
  'parallel',
]);
