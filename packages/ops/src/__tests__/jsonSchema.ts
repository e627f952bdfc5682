import { readFileSync } from 'node:fs';

/** The subset of JSON Schema the snapshot schema uses. */
export interface Schema {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  $ref?: string;
  $defs?: Record<string, Schema>;
}

export function loadSchema(): Schema {
  const url = new URL('../../schema/diagnostics-v1.schema.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Schema;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Every violation of `schema` by `value`, as `path: problem` lines; enough of
 * JSON Schema to keep the committed schema and the snapshot code in step,
 * without a validator dependency.
 */
export function validate(
  schema: Schema,
  value: unknown,
  root: Schema = schema,
  path = '$',
): string[] {
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace('#/$defs/', '');
    const target = root.$defs?.[name];
    if (target === undefined) return [`${path}: unknown $ref ${schema.$ref}`];
    return validate(target, value, root, path);
  }
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const t = typeOf(value);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) {
      errors.push(`${path}: expected ${types.join('|')}, got ${t}`);
      return errors;
    }
  }
  if ('const' in schema && value !== schema.const)
    errors.push(`${path}: expected ${String(schema.const)}`);
  if (schema.enum !== undefined && !schema.enum.includes(value))
    errors.push(`${path}: not in enum`);
  if (schema.anyOf?.every((s) => validate(s, value, root, path).length > 0)) {
    errors.push(`${path}: matches none of anyOf`);
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    for (const key of schema.required ?? [])
      if (!(key in obj)) errors.push(`${path}: missing ${key}`);
    for (const [key, s] of Object.entries(schema.properties ?? {})) {
      if (key in obj) errors.push(...validate(s, obj[key], root, `${path}.${key}`));
    }
  }
  if (Array.isArray(value) && schema.items !== undefined) {
    value.forEach((v, i) => {
      errors.push(...validate(schema.items!, v, root, `${path}[${i}]`));
    });
  }
  return errors;
}
