import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import t from 'tap';
import {
  buildAsyncApiDocument,
  type EventDefinition,
  eventCatalog,
  messageKey,
  operationalEventTypes,
} from '../src/index.ts';

const doc = buildAsyncApiDocument();

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) throw new Error(`not a local reference: ${ref}`);
  return ref
    .slice(2)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, token) => (node as Record<string, unknown> | undefined)?.[token], root);
}

function collectRefs(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) collectRefs(item, found);
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else collectRefs(value, found);
    }
  }
  return found;
}

t.test('an AsyncAPI 3.0.0 document with a channel, operation and message per event', async (t) => {
  t.equal(doc.asyncapi, '3.0.0');
  t.ok(doc.info.title && doc.info.version);
  t.equal(doc.defaultContentType, 'application/cloudevents+json');
  t.same(
    doc.info.tags.map((tag) => tag.name),
    ['registration', 'deal_tracking', 'notification'],
  );
  t.equal(Object.keys(doc.channels).length, eventCatalog.length);
  t.equal(Object.keys(doc.operations).length, eventCatalog.length);
  t.equal(Object.keys(doc.components.messages).length, eventCatalog.length);

  for (const def of eventCatalog) {
    const channel = doc.channels[def.subject];
    t.equal(
      channel?.address,
      def.personal ? `${def.subject}.{entity}` : def.subject,
      `channel ${def.subject}: events with personal data are addressed per entity`,
    );
    const key = messageKey(def as EventDefinition);
    const message = doc.components.messages[key];
    t.equal(message?.name, def.type);
    t.same(channel?.messages, { [key]: { $ref: `#/components/messages/${key}` } });
    const operation = doc.operations[`${def.subject}.send`];
    t.equal(operation?.action, 'send');
    t.same(operation?.messages, [{ $ref: `#/channels/${def.subject}/messages/${key}` }]);
    // Component keys must match AsyncAPI's pattern for them.
    t.match(key, /^[\w.-]+$/);
  }

  for (const ref of collectRefs({ channels: doc.channels, operations: doc.operations })) {
    t.ok(resolvePointer(doc, ref), `${ref} resolves`);
  }
  t.same(buildAsyncApiDocument(), doc, 'the document is deterministic');
});

t.test('payloads are valid JSON Schema that accept the examples and reject broken events', async (t) => {
  const ajv = new Ajv({ strict: true, allErrors: true });
  // ajv-formats is CommonJS; its default export is the plugin at runtime and in its types.
  ajvFormats.default(ajv);

  for (const def of eventCatalog) {
    const message = doc.components.messages[messageKey(def as EventDefinition)];
    if (!message) throw new Error(`no message for ${def.type}`);
    t.equal(ajv.validateSchema(message.payload), true, `${def.subject}: payload is a valid draft-07 schema`);
    t.equal(ajv.validateSchema(message.headers), true);
    const validate = ajv.compile(message.payload);
    const validateHeaders = ajv.compile(message.headers);
    t.equal(message.examples.length, 1);

    for (const example of message.examples) {
      const payload = example.payload;
      t.ok(validate(payload), `${def.subject}: example matches its JSON Schema`, { errors: validate.errors });
      t.ok(def.schema.safeParse(payload).success, `${def.subject}: example matches its zod schema`);
      t.ok(validateHeaders(example.headers));
      t.equal(example.headers['Nats-Msg-Id'], payload.id);
      t.match(payload.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'UUIDv7');
      t.ok(Object.values(payload.data as object).includes(payload.subject), 'subject is an entity id');

      // The generated schema must agree with zod on what is broken.
      const data = payload.data as Record<string, unknown>;
      const broken = [
        // Alerts and consumer facts are not about a versioned entity.
        ...(operationalEventTypes.has(def.type) ? [] : [{ ...payload, data: { ...data, version: 0 } }]),
        { ...payload, type: `${def.type}x` },
        { ...payload, time: '2023-11-23 12:00' },
        { ...payload, data: Object.fromEntries(Object.entries(data).slice(1)) },
      ];
      for (const candidate of broken) {
        t.notOk(validate(candidate), `${def.subject}: JSON Schema rejects a broken event`);
        t.notOk(def.schema.safeParse(candidate).success, `${def.subject}: zod rejects it too`);
      }
    }
  }
});

t.test('the cli writes the document and prints its path', async (t) => {
  const dir = t.testdir();
  const target = path.join(dir, 'out', 'events.asyncapi.json');
  const cli = path.resolve(import.meta.dirname, '../src/asyncapi.cli.ts');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', cli, target]);
  t.equal(stdout.trim(), target);
  t.same(JSON.parse(await readFile(target, 'utf8')), JSON.parse(JSON.stringify(doc)));
});
