/**
 * Test helpers: a {@link VirtualClock} that drives tickwork components in
 * deterministic virtual time.
 *
 * @packageDocumentation
 * @module @tickwork/core/testing
 */
export { VirtualClock } from './virtualClock.js';
