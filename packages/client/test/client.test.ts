// The generated client is current with what the services publish, calls them with the types of their
// documents, and the JSON Schemas accept the events the services really emit.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { adminAuth, System } from '@citydeals/fault-suite';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import t from 'tap';
import { openApiDocumentsOf } from '../src/codegen/documents.ts';
import { generateClientFiles } from '../src/codegen/generate.ts';
import { dealTrackingClient, notificationClient, registrationClient } from '../src/index.ts';

const packageRoot = fileURLToPath(new URL('../', import.meta.url));
const system = await System.start();
t.teardown(() => system.close());
const apiKey = adminAuth.authorization.slice('Bearer '.length);

t.test('the committed client and schemas are what the running services and contracts generate', async (t) => {
  const files = generateClientFiles(await openApiDocumentsOf(system));
  t.ok(Object.keys(files).length >= 5);
  for (const [path, content] of Object.entries(files)) {
    const committed = readFileSync(`${packageRoot}${path}`, 'utf8');
    t.ok(committed === content, `${path} is current (otherwise: npm run generate:client)`);
  }
});

t.test('typed calls reach the services and read their answers', async (t) => {
  const registration = registrationClient({ baseUrl: system.url('registration'), apiKey });
  const created = await registration.request('POST /admin/meetings', {
    body: {
      title: 'CoP typed client',
      slug: `typed-client-${Date.now()}`,
      startsAt: '2031-03-12T13:00:00+01:00',
      endsAt: '2031-03-12T17:00:00+01:00',
      venue: { name: 'Hangar', address: 'Zuid-Hollandlaan 7, Den Haag' },
      capacity: 1,
      status: 'published',
    },
  });
  if (created.status !== 201) throw new Error(`create meeting: ${created.status}`);
  t.equal(created.body.capacity, 1, 'the body has the type of the 201 answer');

  const first = await registration.request('POST /meetings/{id}/registrations', {
    params: { id: created.body.id },
    body: {
      name: 'Typed One',
      email: 'typed-one@example.org',
      organisation: 'Gemeente Delft',
      role: 'dealmaker',
    },
  });
  t.equal(first.status, 201);
  if (first.status === 201) t.equal(first.body.status, 'confirmed');
  const second = await registration.request('POST /meetings/{id}/registrations', {
    params: { id: created.body.id },
    body: {
      name: 'Typed Two',
      email: 'typed-two@example.org',
      organisation: 'Gemeente Delft',
      role: 'partner',
    },
  });
  if (second.status === 201) t.same([second.body.status, second.body.position], ['waitlisted', 1]);
  else t.fail(`second registration answered ${second.status}`);

  const bad = await registration.request('POST /meetings/{id}/registrations', {
    params: { id: created.body.id },
    body: { name: '', email: 'not-an-address', organisation: 'X', role: 'dealmaker' },
  });
  t.equal(bad.status, 400, 'bad input comes back as its problem');
  if (bad.status === 400)
    t.ok(
      bad.body.errors?.some((e) => e.field === 'body.email'),
      'naming the field',
    );

  const notification = notificationClient({ baseUrl: system.url('notification'), apiKey });
  const endpoint = await notification.request('POST /webhooks/endpoints', {
    body: { url: system.hooks.url, description: 'typed client test', eventTypes: ['*'] },
  });
  t.equal(endpoint.status, 201, 'a webhook endpoint is registered');
  if (endpoint.status === 201) {
    const test = await notification.request('POST /webhooks/endpoints/{id}/test', {
      params: { id: endpoint.body.id },
    });
    t.equal(test.status, 202, 'a test message is queued (its body is checked against the schema below)');
  }

  const deals = dealTrackingClient({ baseUrl: system.url('deal_tracking'), apiKey });
  const deal = await deals.request('POST /deals', {
    body: { name: 'Typed Deal', kind: 'city_deal', summary: 'made through the typed client' },
  });
  t.equal(deal.status, 201);
  const list = await deals.request('GET /deals', { query: { limit: 5 } });
  t.equal(list.status, 200, 'query parameters are sent');
});

t.test('the JSON Schemas accept every event the services emitted, and refuse a broken one', async (t) => {
  await system.drain();
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const events = ajv.compile(JSON.parse(readFileSync(`${packageRoot}schemas/events.schema.json`, 'utf8')));
  const webhook = ajv.compile(
    JSON.parse(readFileSync(`${packageRoot}schemas/webhook-payload.schema.json`, 'utf8')),
  );
  const emitted = await system.query<{ payload: unknown; subject: string }>(
    `select payload, subject from registration.outbox
     union all select payload, subject from deal_tracking.outbox`,
  );
  t.ok(emitted.length >= 4, `${emitted.length} events emitted`);
  for (const { payload, subject } of emitted) {
    const event = typeof payload === 'string' ? JSON.parse(payload) : payload;
    t.ok(events(event), `${subject} matches events.schema.json`, { errors: events.errors });
    if (subject.includes('deal_tracking.'))
      t.ok(webhook(event), `${subject} matches webhook-payload.schema.json`);
  }
  // Deliveries go through the delivery worker, which the drain above does not wait for. The test message and
  // the deal created after the endpoint are always delivered; the meeting's event only when notification
  // consumed it after the endpoint existed.
  const expected = [
    'nl.citydeals.notification.webhook.test.v1',
    'nl.citydeals.deal_tracking.deal.created.v1',
  ];
  const arrived = () => expected.every((type) => system.hooks.received.some((r) => r.eventType === type));
  for (let waited = 0; waited < 30_000 && !arrived(); waited += 100) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const delivered = system.hooks.received.map((r) => JSON.parse(r.body));
  t.ok(delivered.length >= 2, `${delivered.length} webhook deliveries received`);
  for (const body of delivered) t.ok(webhook(body), `a delivered webhook body (${body.type}) matches`);
  for (const type of expected) {
    t.ok(
      delivered.some((body) => body.type === type),
      `${type} was among them`,
    );
  }
  const broken = { ...(emitted[0]!.payload as object), specversion: '0.3' };
  t.notOk(events(broken), 'an envelope of another CloudEvents version is refused');
});
