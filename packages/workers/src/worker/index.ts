/**
 * Worker side of `@tickwork/workers`: what an executor module imports.
 * It never loads the main side; the two share only `../protocol.ts`.
 * @module
 */

export type {
  ArgsOf,
  ExecutorContext,
  Handler,
  HandlerMap,
  ResultOf,
} from '../protocol.js';
export type { ExecutorOptions } from './defineExecutor.js';
export { defineExecutor } from './defineExecutor.js';
