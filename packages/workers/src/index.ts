/**
 * Main side of `@tickwork/workers`: `WorkerProcess`, keyed requests run in a
 * pool of worker threads. Executor modules import `@tickwork/workers/worker`
 * instead; the two sides share only the types re-exported here.
 * @module
 */

export type { CachedKeyOptions, KeyEntry } from './cachedKey.js';
export { CachedKey } from './cachedKey.js';
export { OutcomeCounts } from './outcomeCounts.js';
export type {
  ArgsOf,
  ExecutorContext,
  Handler,
  HandlerMap,
  ResultEnvelope,
  ResultOf,
  TargetOf,
  TaskMessage,
  TaskResult,
  UntypedHandlers,
} from './protocol.js';
export { isEnvelope, RESULT_MARK } from './protocol.js';
export { RequestHandle } from './requestHandle.js';
export type {
  AddOptions,
  CloseOptions,
  CommandOptions,
  PriorityName,
  SendOptions,
  WaitOptions,
} from './requestOptions.js';
export { Priority } from './requestOptions.js';
export type { TargetCounts } from './targetStats.js';
export type { RunnerHooks, RunnerSpec, TaskRunner, TerminateTarget } from './taskRunner.js';
export { ThreadPool } from './threadPool.js';
export { WorkerProcess } from './workerProcess.js';
export type { WorkerProcessEvent } from './workerProcessEvent.js';
export type { WorkerProcessOptions } from './workerProcessOptions.js';
export type {
  RequestCallback,
  RequestId,
  RequestInfo,
  RequestState,
  TerminalState,
} from './workerRequest.js';
export { isTerminal } from './workerRequest.js';
