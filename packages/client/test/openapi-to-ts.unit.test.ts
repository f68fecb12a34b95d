import t from 'tap';
import { schemaToType } from '../src/codegen/json-schema-to-ts.ts';
import { openApiToTypeScript } from '../src/codegen/openapi-to-ts.ts';

const noRefs = () => 'unknown';
const flat = (type: string) => type.replace(/\s+/g, ' ');

t.test('JSON Schema to a type expression', async (t) => {
  t.equal(schemaToType({ type: 'string' }, 'output', noRefs), 'string');
  t.equal(schemaToType({ type: 'integer', nullable: true }, 'output', noRefs), 'number | null');
  t.equal(schemaToType({ enum: ['nl', 'en'] }, 'output', noRefs), '"nl" | "en"');
  t.equal(schemaToType({ const: true }, 'output', noRefs), 'true');
  t.equal(schemaToType({ anyOf: [{ type: 'string' }, { type: 'null' }] }, 'output', noRefs), 'string | null');
  t.equal(schemaToType({ type: ['string', 'null'] }, 'output', noRefs), 'string | null');
  t.equal(schemaToType({ type: 'array', items: { type: 'number' } }, 'output', noRefs), 'number[]');
  t.equal(
    schemaToType({ type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] }, 'output', noRefs),
    '[string, number]',
  );
  t.equal(
    flat(schemaToType({ type: 'object', additionalProperties: { type: 'string' } }, 'output', noRefs)),
    '{ [key: string]: string; }',
  );
  t.equal(schemaToType({ type: 'object' }, 'output', noRefs), 'Record<string, unknown>');
  t.equal(schemaToType({}, 'output', noRefs), 'unknown', 'nothing known: unknown, never a guess');
  t.equal(
    schemaToType({ $ref: '#/components/schemas/Deal' }, 'output', (ref) => `S[${JSON.stringify(ref)}]`),
    'S["#/components/schemas/Deal"]',
  );
});

t.test('required, optional and defaulted fields read differently in requests and responses', async (t) => {
  const schema = {
    type: 'object',
    required: ['name'],
    properties: {
      name: { type: 'string' },
      language: { type: 'string', default: 'nl' },
      note: { type: 'string' },
      'content-type': { type: 'string' },
    },
  };
  const input = flat(schemaToType(schema, 'input', noRefs));
  const output = flat(schemaToType(schema, 'output', noRefs));
  t.match(input, 'name: string;');
  t.match(input, 'language?: string;', 'a request may leave out a field with a default');
  t.match(output, 'language: string;', 'a response always has it');
  t.match(input, 'note?: string;');
  t.match(output, 'note?: string;');
  t.match(output, '"content-type"?: string;', 'keys that are not identifiers are quoted');
});

t.test('an operation: path parameters, query, body and each response', async (t) => {
  const source = flat(
    openApiToTypeScript(
      {
        info: { title: 'Demo', version: '1' },
        paths: {
          '/things/{id}': {
            patch: {
              summary: 'Change a thing',
              parameters: [
                { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
                { name: 'dryRun', in: 'query', schema: { type: 'boolean' } },
              ],
              requestBody: {
                required: true,
                content: {
                  'application/json': { schema: { type: 'object', properties: { n: { type: 'number' } } } },
                },
              },
              responses: {
                200: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
                204: { description: 'nothing' },
                400: { content: { 'application/problem+json': { schema: { type: 'object' } } } },
              },
            },
          },
        },
        components: {
          schemas: { Thing: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } } },
        },
      },
      'DemoApi',
    ),
  );
  t.match(source, 'export interface DemoApiSchemas { Thing: { id: string; }; }');
  t.match(source, '/** Change a thing */ "PATCH /things/{id}": {');
  t.match(source, 'params: { id: string; };');
  t.match(source, 'query: { dryRun?: boolean; };');
  t.match(source, 'body: { n?: number; };');
  t.match(source, '200: DemoApiSchemas["Thing"];');
  t.match(source, '204: undefined;');
  t.match(source, '400: Record<string, unknown>;', 'problem+json is JSON too');
});
