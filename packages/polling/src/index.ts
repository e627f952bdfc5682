export { ReadFailure, readFailure } from './readFailure.js';
export type { RetryOptions } from './retryPolicy.js';
export { ThreadDict } from './threadDict.js';
export type {
  ReadContext,
  ReadFn,
  ReadManyContext,
  ReadManyFn,
  ReadManyResult,
  ThreadDictOptions,
  WriteFn,
} from './threadDictOptions.js';
export type {
  AppendOptions,
  Entry,
  EntryStatus,
  GetOptions,
  HistoryRecord,
  PollState,
  PollStatus,
  ReadOptions,
  ReadSource,
} from './threadDictTypes.js';
export { ThreadedObject } from './threadedObject.js';
export type { ArgsHook, Target, ThreadedObjectOptions } from './threadedObjectOptions.js';
