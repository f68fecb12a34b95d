// JSON Schema (as fastify and zod put it in the OpenAPI documents) to a TypeScript type expression. Covers
// what those documents use: objects, arrays and tuples, enums and consts, unions, intersections, nullables
// and references to `components.schemas`; anything else is `unknown`, never a guess.

export type JsonSchema = { [key: string]: unknown };

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function propertyKey(name: string): string {
  return IDENTIFIER.test(name) ? name : JSON.stringify(name);
}

function indent(text: string, by: string): string {
  return text.replaceAll('\n', `\n${by}`);
}

function literal(value: unknown): string {
  return value === null ? 'null' : JSON.stringify(value);
}

function union(parts: string[]): string {
  const unique = [...new Set(parts)];
  if (unique.length === 0) return 'never';
  if (unique.includes('unknown')) return 'unknown';
  return unique.length === 1 ? unique[0]! : unique.map((p) => (p.includes('\n') ? `(${p})` : p)).join(' | ');
}

/**
 * `mode`: `output` reads a response (fields with a default are always there); `input` writes a request
 * (fields with a default may be left out), which is how fastify applies the schema.
 */
export function schemaToType(
  schema: unknown,
  mode: 'input' | 'output',
  refType: (ref: string) => string,
): string {
  if (schema === true || schema === undefined) return 'unknown';
  if (schema === false) return 'never';
  if (typeof schema !== 'object' || schema === null) return 'unknown';
  const s = schema as JsonSchema;
  const nullable = s.nullable === true;
  const withNull = (type: string) => (nullable ? union([type, 'null']) : type);

  if (typeof s.$ref === 'string') return withNull(refType(s.$ref));
  if ('const' in s) return withNull(literal(s.const));
  if (Array.isArray(s.enum)) return withNull(union(s.enum.map(literal)));
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = s[key];
    if (Array.isArray(options)) return withNull(union(options.map((o) => schemaToType(o, mode, refType))));
  }
  if (Array.isArray(s.allOf)) {
    const parts = s.allOf.map((o) => schemaToType(o, mode, refType));
    return withNull(parts.length === 1 ? parts[0]! : parts.map((p) => `(${p})`).join(' & '));
  }
  if (Array.isArray(s.type)) {
    return union(s.type.map((type) => schemaToType({ ...s, type }, mode, refType)));
  }
  switch (s.type) {
    case 'string':
      return withNull('string');
    case 'number':
    case 'integer':
      return withNull('number');
    case 'boolean':
      return withNull('boolean');
    case 'null':
      return 'null';
    case 'array':
      return withNull(arrayType(s, mode, refType));
    case 'object':
      return withNull(objectType(s, mode, refType));
    default:
      return s.properties ? withNull(objectType(s, mode, refType)) : 'unknown';
  }
}

function arrayType(s: JsonSchema, mode: 'input' | 'output', refType: (ref: string) => string): string {
  if (Array.isArray(s.prefixItems)) {
    return `[${s.prefixItems.map((item) => schemaToType(item, mode, refType)).join(', ')}]`;
  }
  const item = schemaToType(s.items, mode, refType);
  return /^[\w.[\]'"]+$/.test(item) ? `${item}[]` : `Array<${item}>`;
}

function objectType(s: JsonSchema, mode: 'input' | 'output', refType: (ref: string) => string): string {
  const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : []);
  const lines: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    const hasDefault = typeof property === 'object' && property !== null && 'default' in property;
    const optional = (
      mode === 'input'
        ? !required.has(name) || hasDefault
        : !required.has(name) && !hasDefault
    )
      ? '?'
      : '';
    const doc =
      typeof property?.description === 'string'
        ? `/** ${property.description.replaceAll('*/', '* /')} */\n`
        : '';
    lines.push(
      `${doc}${propertyKey(name)}${optional}: ${indent(schemaToType(property, mode, refType), '  ')};`,
    );
  }
  const extra = s.additionalProperties;
  if (extra !== undefined && extra !== false) {
    const value = Object.keys(properties).length > 0 ? 'unknown' : schemaToType(extra, mode, refType);
    lines.push(`[key: string]: ${value};`);
  }
  if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n  ${lines.map((l) => indent(l, '  ')).join('\n  ')}\n}`;
}
