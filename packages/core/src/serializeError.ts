import { errorClasses } from './errors.js';

/**
 * An error as plain, structured-clone-safe data: what crosses a thread or a
 * process. Rebuild it with {@link deserializeError}.
 */
export interface SerializedError {
  /** Marks the object as a serialised error. */
  readonly $error: true;
  /** Class name, e.g. `TimeoutError`. */
  name: string;
  /** Message. */
  message: string;
  /** Stack as captured where the error was made. */
  stack?: string;
  /** `code` property, when the error has one. */
  code?: string | number;
  /** The `cause`: a serialised error, or any cloneable value. */
  cause?: unknown;
  /** Other own enumerable properties, made cloneable. */
  props: Record<string, unknown>;
}

const MAX_CAUSE_DEPTH = 8;
const SKIP = new Set(['name', 'message', 'stack', 'code', 'cause']);

const builtins: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function cloneable(value: unknown, depth: number, seen: Set<unknown>): unknown {
  if (value instanceof Error) return serializeAt(value, depth + 1, seen);
  try {
    return structuredClone(value);
  } catch {
    return String(value);
  }
}

function serializeAt(error: Error, depth: number, seen: Set<unknown>): SerializedError | string {
  if (seen.has(error) || depth > MAX_CAUSE_DEPTH) return `[${error.name}: ${error.message}]`;
  seen.add(error);
  const out: SerializedError = {
    $error: true,
    name: error.name,
    message: error.message,
    props: {},
  };
  if (error.stack !== undefined) out.stack = error.stack;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = code;
  if ('cause' in error && error.cause !== undefined)
    out.cause = cloneable(error.cause, depth, seen);
  for (const key of Object.keys(error)) {
    if (!SKIP.has(key))
      out.props[key] = cloneable((error as unknown as Record<string, unknown>)[key], depth, seen);
  }
  return out;
}

/**
 * Turns any thrown value into structured-clone-safe data, keeping name,
 * message, stack, code, cause (recursively) and own properties. Values that
 * cannot be cloned (functions, sockets) become their string form.
 */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const out = serializeAt(error, 0, new Set());
    if (typeof out !== 'string') return out;
  }
  return {
    $error: true,
    name: 'Error',
    message: String(error),
    props: { thrown: cloneable(error, 0, new Set()) },
  };
}

/** Whether `value` is a {@link SerializedError}. */
export function isSerializedError(value: unknown): value is SerializedError {
  return (
    typeof value === 'object' && value !== null && (value as { $error?: unknown }).$error === true
  );
}

/**
 * Rebuilds an error made by {@link serializeError}. tickwork error classes and
 * the built-in ones come back as instances of their class (so `instanceof
 * TimeoutError` works across threads); other names come back as `Error` with
 * that `name`.
 */
export function deserializeError(data: SerializedError): Error {
  const cls =
    (errorClasses as Record<string, { prototype: Error }>)[data.name] ??
    builtins[data.name] ??
    Error;
  const error = Object.create(cls.prototype) as Error & Record<string, unknown>;
  const define = (key: string, value: unknown): void => {
    Object.defineProperty(error, key, {
      value,
      writable: true,
      configurable: true,
      enumerable: false,
    });
  };
  define('message', data.message);
  if (data.stack !== undefined) define('stack', data.stack);
  if (error.name !== data.name) define('name', data.name);
  if (data.code !== undefined) error['code'] = data.code;
  if (data.cause !== undefined) {
    define('cause', isSerializedError(data.cause) ? deserializeError(data.cause) : data.cause);
  }
  for (const [key, value] of Object.entries(data.props)) {
    error[key] = isSerializedError(value) ? deserializeError(value) : value;
  }
  return error;
}
