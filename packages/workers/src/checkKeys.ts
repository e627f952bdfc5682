import { ConfigError } from '@tickwork/core';

/**
 * Throws {@link ConfigError} for an option name not in `known`, so a typo
 * (`timeout` for `timeoutMs`) fails loudly instead of being ignored.
 *
 * @param component - component name for the message
 * @param path - path of the options object, e.g. `send options`
 * @param options - the options object (already checked to be an object)
 * @param known - the accepted names
 */
export function checkKeys(
  component: string,
  path: string,
  options: object,
  known: ReadonlySet<string>,
): void {
  for (const key in options) {
    if (!known.has(key)) {
      const hint = known.has(`${key}Ms`) ? ` (did you mean ${key}Ms? durations are in ms)` : '';
      throw new ConfigError(
        `${component}: ${path}.${key} is not an option${hint}; known options: ${[...known].join(', ')}`,
        `${path}.${key}`,
      );
    }
  }
}
