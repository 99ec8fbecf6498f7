// A small JSON Schema (2020-12) checker for the keywords `z.toJSONSchema` emits for the scenario
// schema, so tests can check the exported schema against real files without a validator package.
// Unknown keywords throw, so a schema change that this does not understand fails loudly.

type Schema = Record<string, unknown>;

const KNOWN = new Set([
  '$schema', 'title', 'description', 'default', 'format', 'type', 'properties', 'required', 'additionalProperties',
  'propertyNames', 'items', 'prefixItems', 'minItems', 'maxItems', 'enum', 'const', 'anyOf', 'oneOf', 'pattern',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minLength', 'maxLength',
]);

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function typeMatches(t: string, v: unknown): boolean {
  if (t === 'integer') return Number.isInteger(v);
  return typeOf(v) === t;
}

/** Paths and reasons where `value` breaks `schema`; empty when it conforms. */
export function schemaErrors(schema: Schema, value: unknown, path = '$'): string[] {
  for (const key of Object.keys(schema)) if (!KNOWN.has(key)) throw new Error(`json-schema-lite: unsupported keyword ${key} at ${path}`);
  const errs: string[] = [];
  const fail = (why: string) => errs.push(`${path}: ${why}`);
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
    if (!types.some((t) => typeMatches(t, value))) return [`${path}: expected ${types.join('|')}, got ${typeOf(value)}`];
  }
  if (schema.const !== undefined && value !== schema.const) fail(`expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) fail(`not in enum`);
  if (typeof value === 'number') {
    if (typeof schema.minimum === 'number' && value < schema.minimum) fail(`< minimum`);
    if (typeof schema.maximum === 'number' && value > schema.maximum) fail(`> maximum`);
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) fail(`<= exclusiveMinimum`);
    if (typeof schema.exclusiveMaximum === 'number' && value >= schema.exclusiveMaximum) fail(`>= exclusiveMaximum`);
  }
  if (typeof value === 'string') {
    if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern, 'u').test(value)) fail(`does not match ${schema.pattern}`);
    if (typeof schema.minLength === 'number' && value.length < schema.minLength) fail('too short');
    if (typeof schema.maxLength === 'number' && value.length > schema.maxLength) fail('too long');
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) fail('too few items');
    if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) fail('too many items');
    const prefix = (schema.prefixItems as Schema[] | undefined) ?? [];
    value.forEach((item, i) => {
      const itemSchema = i < prefix.length ? prefix[i] : (schema.items as Schema | undefined);
      if (itemSchema) errs.push(...schemaErrors(itemSchema, item, `${path}[${i}]`));
    });
  }
  if (typeOf(value) === 'object') {
    const obj = value as Record<string, unknown>;
    const props = (schema.properties as Record<string, Schema> | undefined) ?? {};
    for (const req of (schema.required as string[] | undefined) ?? []) if (!(req in obj)) fail(`missing ${req}`);
    for (const [k, v] of Object.entries(obj)) {
      if (schema.propertyNames) errs.push(...schemaErrors(schema.propertyNames as Schema, k, `${path}{${k}}`));
      if (k in props) errs.push(...schemaErrors(props[k], v, `${path}.${k}`));
      else if (schema.additionalProperties === false) fail(`unknown key ${k}`);
      else if (typeof schema.additionalProperties === 'object') errs.push(...schemaErrors(schema.additionalProperties as Schema, v, `${path}.${k}`));
    }
  }
  if (schema.anyOf && !(schema.anyOf as Schema[]).some((s) => schemaErrors(s, value, path).length === 0)) fail('matches no anyOf option');
  if (schema.oneOf) {
    const matches = (schema.oneOf as Schema[]).filter((s) => schemaErrors(s, value, path).length === 0).length;
    if (matches !== 1) fail(`matches ${matches} oneOf options (expected 1)`);
  }
  return errs;
}
