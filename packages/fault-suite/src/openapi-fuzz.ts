import fc from 'fast-check';

/** The parts of an OpenAPI 3.1 document the fuzzer reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

export interface OpenApiOperation {
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: {
    name: string;
    in: 'path' | 'query' | 'header' | 'cookie';
    required?: boolean;
    schema?: JsonSchema;
  }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
}

export type JsonSchema = Record<string, any>;

export interface Operation {
  method: string;
  /** The OpenAPI path template, e.g. `/deals/{id}`. */
  path: string;
  secured: boolean;
  pathParams: { name: string; schema: JsonSchema }[];
  queryParams: { name: string; required: boolean; schema: JsonSchema }[];
  body: JsonSchema | undefined;
  bodyRequired: boolean;
}

const methods = ['get', 'post', 'put', 'patch', 'delete'];

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of methods) {
      const op = item[method];
      if (!op) continue;
      const resolve = (s: JsonSchema | undefined) => deref(doc, s ?? {});
      const params = op.parameters ?? [];
      out.push({
        method: method.toUpperCase(),
        path,
        secured: (op.security ?? []).length > 0,
        pathParams: params
          .filter((p) => p.in === 'path')
          .map((p) => ({ name: p.name, schema: resolve(p.schema) })),
        queryParams: params
          .filter((p) => p.in === 'query')
          .map((p) => ({ name: p.name, required: !!p.required, schema: resolve(p.schema) })),
        body: op.requestBody?.content?.['application/json']?.schema
          ? resolve(op.requestBody.content['application/json'].schema)
          : undefined,
        bodyRequired: !!op.requestBody?.required,
      });
    }
  }
  return out;
}

function deref(doc: OpenApiDocument, schema: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20 || typeof schema !== 'object' || schema === null) return schema;
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').at(-1)!;
    return deref(doc, doc.components?.schemas?.[name] ?? {}, depth + 1);
  }
  const out: JsonSchema = Array.isArray(schema) ? [] : {};
  for (const [k, v] of Object.entries(schema)) {
    out[k] = typeof v === 'object' && v !== null ? deref(doc, v, depth + 1) : v;
  }
  return out;
}

const uuid = fc.uuid();
const hostile = fc.constantFrom(
  '',
  ' ',
  "'; drop table registration; --",
  '../../etc/passwd',
  '%00',
  '\u0000',
  '😀'.repeat(50),
  'x'.repeat(5000),
  '-1',
  '1e309',
  'NaN',
  'null',
  '{"$gt":""}',
  '<script>alert(1)</script>',
  '00000000-0000-0000-0000-000000000000',
);

/** Values a schema allows (roughly), for getting past validation into the handlers. */
export function valid(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (depth > 6) return fc.constant(null);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives) && alternatives.length > 0) {
    return fc.oneof(...alternatives.map((s: JsonSchema) => valid(s, depth + 1)));
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return valid(schema.allOf[0], depth + 1);
  const type = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (type.length > 1) return fc.oneof(...type.map((t: string) => valid({ ...schema, type: t }, depth + 1)));
  switch (type[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1000, -1e9),
        max: Math.min(schema.maximum ?? 1000, 1e9),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 1000, noNaN: true });
    case 'string':
      return stringFor(schema);
    case 'array': {
      const items = schema.items ? valid(schema.items, depth + 1) : fc.string();
      return fc.array(items, {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 3, 3),
      });
    }
    case 'object':
    case undefined: {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      if (Object.keys(props).length === 0) return type[0] ? fc.constant({}) : fc.anything();
      const required = new Set<string>(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) record[k] = valid(v, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
    default:
      return fc.anything();
  }
}

function stringFor(schema: JsonSchema): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return uuid;
    case 'email':
      return fc.emailAddress().filter((e) => e.length <= 254);
    case 'date-time':
      return fc
        .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'date':
      return fc
        .date({ min: new Date('2020-01-01'), max: new Date('2035-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10));
    case 'uri':
      return fc.webUrl();
  }
  if (typeof schema.pattern === 'string') {
    try {
      return fc
        .stringMatching(new RegExp(schema.pattern))
        .filter((s) => s.length <= (schema.maxLength ?? 10_000));
    } catch {
      // a pattern JavaScript cannot read: plain strings below
    }
  }
  return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 40) });
}

/** Mostly-valid values with invalid ones mixed in: wrong types, hostile strings, missing or extra fields. */
export function fuzzy(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const invalid = fc.oneof(
    hostile,
    fc.anything({ maxDepth: 2 }),
    fc.integer(),
    fc.constant(null),
    fc.constant(undefined),
  );
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (depth < 3 && props && Object.keys(props).length > 0) {
    const record: Record<string, fc.Arbitrary<unknown>> = {};
    for (const [k, v] of Object.entries(props)) record[k] = fuzzy(v, depth + 1);
    const objects = fc
      .tuple(
        fc.record(record, { requiredKeys: [] }),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.anything({ maxDepth: 1 }), { maxKeys: 2 }),
      )
      .map(([known, extra]) => ({ ...extra, ...known }));
    return fc.oneof(
      { arbitrary: valid(schema, depth), weight: 3 },
      { arbitrary: objects, weight: 4 },
      invalid,
    );
  }
  return fc.oneof({ arbitrary: valid(schema, depth), weight: 3 }, { arbitrary: invalid, weight: 1 });
}

export interface FuzzRequest {
  method: string;
  url: string;
  body: unknown;
  hasBody: boolean;
}

/** Requests for one operation: path and query parameters and body from the schema, valid or not. */
export function requestsFor(op: Operation, knownIds: string[] = []): fc.Arbitrary<FuzzRequest> {
  const idValue = (schema: JsonSchema) =>
    knownIds.length > 0 ? fc.oneof(fc.constantFrom(...knownIds), fuzzy(schema)) : fuzzy(schema);
  const pathArb = fc
    .tuple(...op.pathParams.map((p) => idValue(p.schema)))
    .map((values) =>
      op.pathParams.reduce(
        (path, p, i) => path.replace(`{${p.name}}`, encodeURIComponent(asText(values[i]))),
        op.path,
      ),
    );
  const queryArb = fc
    .tuple(...op.queryParams.map((p) => fc.option(fuzzy(p.schema), { nil: undefined })))
    .map((values) => {
      const qs = new URLSearchParams();
      op.queryParams.forEach((p, i) => {
        const v = values[i];
        if (v !== undefined) qs.set(p.name, asText(v));
      });
      const s = qs.toString();
      return s ? `?${s}` : '';
    });
  const bodyArb = op.body ? fuzzy(op.body) : fc.constant(undefined);
  return fc.record({ path: pathArb, query: queryArb, body: bodyArb }).map(({ path, query, body }) => ({
    method: op.method,
    url: `${path}${query}`,
    body,
    hasBody: op.body !== undefined && body !== undefined,
  }));
}

/** Any generated value as text, including objects without a prototype. */
export function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return '[object]';
    }
  }
  return String(value);
}
