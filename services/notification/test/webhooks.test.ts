import { randomBytes } from 'node:crypto';
import {
  createEvent,
  type DealPhase,
  dealPhaseChanged,
  dealPhases,
  dealPhaseTransitions,
  dealUpdated,
} from '@citydeals/contracts';
import { publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { adminHeaders, eventually } from '@citydeals/testkit';
import { CloudEvent, HTTP } from 'cloudevents';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { startNotification } from './harness.ts';
import { endpointCreator } from './webhooks.endpoints.ts';
import { startReceiver, verifyStandardWebhook } from './webhooks.receiver.ts';

const receiver = await startReceiver();
const secretKey = randomBytes(32).toString('base64');
const ctx = await startNotification({
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  // The receiver listens on a free port, not 80 or 443.
  WEBHOOK_ALLOWED_PORTS: '*',
  // Short delays; the first one over a second so a retry's webhook-timestamp is a later second.
  WEBHOOK_RETRY_SCHEDULE: '1100ms,300ms,300ms,300ms,300ms,300ms,300ms',
  WEBHOOK_RETRY_JITTER: '0',
  WEBHOOK_DISABLE_AFTER: '2500ms',
  WEBHOOK_POLL_INTERVAL: '50ms',
  WEBHOOK_ATTEMPT_TIMEOUT: '2s',
  WEBHOOK_SECRET_KEY: secretKey,
});
t.teardown(async () => {
  await ctx.close();
  await receiver.close();
});
const { http, runtime } = ctx.service;
const db = runtime.db;

// A legal transition for any version, so one deal can change phase ten times in a row.
const legalMoves = dealPhases.flatMap((from) =>
  dealPhaseTransitions[from].filter((to) => to !== 'discontinued').map((to) => ({ from, to })),
) as { from: DealPhase; to: DealPhase }[];

function phaseChanged(dealId: string, version: number) {
  const move = legalMoves[(version - 1) % legalMoves.length]!;
  return createEvent(dealPhaseChanged, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealPhaseChanged.example, dealId, version, phase: move.to, from: move.from, to: move.to },
  });
}

function publish(event: ReturnType<typeof phaseChanged>) {
  return publishEvent(runtime.js, runtime.ns, dealPhaseChanged, event);
}

const createEndpoint = endpointCreator(http);

const getJson = async (url: string) => (await http.inject({ url, headers: adminHeaders })).json();
const post = (url: string, payload?: Record<string, unknown>) =>
  http.inject({ method: 'POST', url, headers: adminHeaders, ...(payload === undefined ? {} : { payload }) });

async function messageOf(endpointId: string, eventId: string) {
  return db
    .selectFrom('webhook_message')
    .selectAll()
    .where('endpoint_id', '=', endpointId)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
}

/** The deliveries delivered events list for one message. */
async function deliveredFacts(webhookId: string) {
  const { rows } = await runtime.pool.query<{ data: Record<string, unknown> }>(
    `select d as data from notification.outbox, json_array_elements(payload->'data'->'deliveries') d
     where subject = 'notification.webhook_deliveries.recorded' and d->>'webhookId' = $1`,
    [webhookId],
  );
  return rows.map((r) => r.data);
}

async function outboxEvents(subject: string, webhookId: string) {
  const { rows } = await runtime.pool.query<{ payload: { data: Record<string, unknown> } }>(
    `select payload from notification.outbox where subject = $1 and payload->'data'->>'webhookId' = $2`,
    [subject, webhookId],
  );
  return rows.map((r) => r.payload.data);
}

const dealId = () => newEventId();

t.test('endpoints admin API: create shows the secret once, CRUD, validation writes nothing', async (t) => {
  const created = await createEndpoint({
    url: receiver.url('/crud'),
    description: 'Ministry dashboard',
    eventTypes: ['deal_tracking.deal.phase_changed'],
  });
  t.match(created.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  t.ok(Buffer.from(created.secret.slice(6), 'base64').length >= 24, 'at least 24 random bytes');
  const stored = await db
    .selectFrom('webhook_endpoint')
    .select('secret')
    .where('id', '=', created.id)
    .executeTakeFirstOrThrow();
  t.notMatch(stored.secret, created.secret.slice(6), 'the secret is stored sealed, not as is');
  t.match(stored.secret, /^aes256gcm:/);

  const got = await getJson(`/webhooks/endpoints/${created.id}`);
  t.equal(got.url, receiver.url('/crud'));
  t.equal(got.secret, undefined, 'the secret is not shown again');
  t.equal(got.status, 'enabled');

  const patched = await http.inject({
    method: 'PATCH',
    url: `/webhooks/endpoints/${created.id}`,
    headers: adminHeaders,
    payload: { description: 'Evaluation', eventTypes: ['*'], dealIds: [dealId()] },
  });
  t.equal(patched.statusCode, 200);
  t.equal(patched.json().description, 'Evaluation');
  t.same(patched.json().eventTypes, ['*']);
  t.equal(patched.json().version, 2);

  t.equal((await post(`/webhooks/endpoints/${created.id}/disable`)).json().status, 'disabled');
  const enabled = (await post(`/webhooks/endpoints/${created.id}/enable`)).json();
  t.equal(enabled.status, 'enabled');
  t.equal(enabled.disabledReason, null);

  const list = await getJson('/webhooks/endpoints?limit=500');
  t.ok(list.items.some((e: { id: string }) => e.id === created.id));

  const del = await http.inject({
    method: 'DELETE',
    url: `/webhooks/endpoints/${created.id}`,
    headers: adminHeaders,
  });
  t.equal(del.statusCode, 204);
  t.equal(
    (await http.inject({ url: `/webhooks/endpoints/${created.id}`, headers: adminHeaders })).statusCode,
    404,
  );

  const before = await db
    .selectFrom('webhook_endpoint')
    .select(db.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  for (const [payload, field] of [
    [{ url: receiver.url('/x') }, 'body.eventTypes'],
    [{ url: 'ftp://example.org/x', eventTypes: ['*'] }, 'body.url'],
    [{ url: receiver.url('/x'), eventTypes: ['deal_tracking.deal.exploded'] }, 'body.eventTypes.0'],
    [{ url: receiver.url('/x'), eventTypes: ['*'], dealIds: ['not-a-uuid'] }, 'body.dealIds.0'],
  ] as const) {
    const res = await http.inject({
      method: 'POST',
      url: '/webhooks/endpoints',
      headers: adminHeaders,
      payload,
    });
    t.equal(res.statusCode, 400, field);
    t.match(res.headers['content-type'], /application\/problem\+json/);
    t.ok(
      res.json().errors.some((e: { field: string }) => e.field === field),
      `names ${field}: ${res.body}`,
    );
  }
  const unauthenticated = await http.inject({
    method: 'POST',
    url: '/webhooks/endpoints',
    payload: { url: receiver.url('/x'), eventTypes: ['*'] },
  });
  t.equal(unauthenticated.statusCode, 401);
  const after = await db
    .selectFrom('webhook_endpoint')
    .select(db.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  t.equal(Number(after.n), Number(before.n), 'nothing written');
});

t.test('a delivery is signed per Standard Webhooks and verifies independently', async (t) => {
  const endpoint = await createEndpoint({
    url: receiver.url('/signed'),
    eventTypes: ['deal_tracking.deal.phase_changed'],
  });
  const event = phaseChanged(dealId(), 4);
  await publish(event);
  const [got] =
    (await eventually(() => receiver.at('/signed').length > 0 && receiver.at('/signed'), 10_000)) || [];
  t.ok(got, 'received');
  if (!got) return;
  t.equal(got.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
  const body = JSON.parse(got.body);
  // The CloudEvents SDK's HTTP binding reads the delivery as received (headers and raw body).
  const message = { headers: got.headers, body: got.body };
  t.ok(HTTP.isEvent(message), 'the CloudEvents SDK recognises a CloudEvent');
  const parsed = HTTP.toEvent<{ version: number }>(message);
  const cloudEvent = Array.isArray(parsed) ? parsed[0]! : parsed;
  t.notOk(Array.isArray(parsed), 'one event, not a batch');
  t.ok(cloudEvent instanceof CloudEvent && cloudEvent.validate(), 'and it is valid CloudEvents 1.0');
  t.match(
    {
      specversion: cloudEvent.specversion,
      id: cloudEvent.id,
      type: cloudEvent.type,
      source: cloudEvent.source,
      subject: cloudEvent.subject,
      data: cloudEvent.data,
    },
    { specversion: '1.0', id: event.id, type: event.type, source: event.source, subject: event.subject },
  );
  t.equal(cloudEvent.data?.version, 4, 'with the data as sent');
  t.equal(body.type, 'nl.citydeals.deal_tracking.deal.phase_changed.v1');
  t.equal(body.id, event.id);
  t.equal(body.time, event.time);
  t.equal(body.data.version, 4);
  t.ok(Buffer.byteLength(got.body) < 20 * 1024);
  t.match(got.headers['webhook-id'], /^msg_[0-9a-f]{32}$/);
  t.ok(Math.abs(Number(got.headers['webhook-timestamp']) - Date.now() / 1000) < 60);

  t.ok(verifyStandardWebhook(endpoint.secret, got.headers, got.body), 'independent verifier accepts');
  const flipped = got.body.replace('"version":4', '"version":5');
  t.not(flipped, got.body);
  t.notOk(verifyStandardWebhook(endpoint.secret, got.headers, flipped), 'one changed byte fails');
  // Relative to the signed timestamp, not to now: on a loaded machine seconds pass between send and check.
  const signedAtMs = Number(got.headers['webhook-timestamp']) * 1000;
  t.notOk(
    verifyStandardWebhook(endpoint.secret, got.headers, got.body, signedAtMs + 301_000),
    'too old fails',
  );
  t.notOk(
    verifyStandardWebhook(endpoint.secret, got.headers, got.body, signedAtMs - 301_000),
    'too new fails',
  );
  t.notOk(
    verifyStandardWebhook(`whsec_${randomBytes(32).toString('base64')}`, got.headers, got.body),
    'other secret fails',
  );
  const library = new Webhook(endpoint.secret);
  t.same(library.verify(got.body, got.headers as Record<string, string>), body, 'the library agrees');

  const settled = await eventually(async () => {
    const m = await messageOf(endpoint.id, event.id);
    return m?.status === 'delivered' ? m : undefined;
  });
  t.equal(settled?.webhook_id, got.headers['webhook-id']);
  const delivered = await deliveredFacts(settled!.webhook_id);
  t.equal(delivered.length, 1, 'a webhook.delivered event listing it was committed');
  t.match(delivered[0], { eventId: event.id, dealVersion: 4, statusCode: 200, attempts: 1 });
});

t.test('a rotated secret: old and new both verify during the grace period, only the new after', async (t) => {
  const endpoint = await createEndpoint({ url: receiver.url('/rotate'), eventTypes: ['*'] });
  const rotated = await post(`/webhooks/endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 3600 });
  t.equal(rotated.statusCode, 200);
  const newSecret = rotated.json().secret as string;
  t.not(newSecret, endpoint.secret);
  t.ok(rotated.json().previousSecretExpiresAt);
  await publish(phaseChanged(dealId(), 2));
  const first = await eventually(() => receiver.at('/rotate')[0]);
  t.equal(first!.headers['webhook-signature']!.toString().split(' ').length, 2, 'two signatures');
  t.ok(verifyStandardWebhook(endpoint.secret, first!.headers, first!.body), 'old secret verifies');
  t.ok(verifyStandardWebhook(newSecret, first!.headers, first!.body), 'new secret verifies');

  const again = await post(`/webhooks/endpoints/${endpoint.id}/rotate-secret`, { graceSeconds: 0 });
  const newest = again.json().secret as string;
  await publish(phaseChanged(dealId(), 3));
  const second = await eventually(() => receiver.at('/rotate')[1]);
  t.ok(verifyStandardWebhook(newest, second!.headers, second!.body), 'newest verifies');
  t.notOk(
    verifyStandardWebhook(newSecret, second!.headers, second!.body),
    'without grace the old one does not',
  );
});

t.test('500 then 200: same webhook-id, fresh timestamp and signature, delivered once', async (t) => {
  receiver.on('/flaky', (_r, nth) => (nth === 1 ? { status: 500, body: 'x'.repeat(5000) } : { status: 200 }));
  const endpoint = await createEndpoint({ url: receiver.url('/flaky'), eventTypes: ['*'] });
  const event = phaseChanged(dealId(), 7);
  await publish(event);
  const message = await eventually(async () => {
    const m = await messageOf(endpoint.id, event.id);
    return m?.status === 'delivered' ? m : undefined;
  });
  t.ok(message, 'delivered');
  const hits = receiver.at('/flaky');
  t.equal(hits.length, 2);
  t.same(
    hits.map((h) => h.status),
    [500, 200],
  );
  t.equal(hits[0]!.headers['webhook-id'], hits[1]!.headers['webhook-id'], 'same webhook-id');
  t.ok(
    Number(hits[1]!.headers['webhook-timestamp']) > Number(hits[0]!.headers['webhook-timestamp']),
    'fresh timestamp',
  );
  t.not(hits[0]!.headers['webhook-signature'], hits[1]!.headers['webhook-signature'], 'fresh signature');
  t.ok(verifyStandardWebhook(endpoint.secret, hits[1]!.headers, hits[1]!.body));
  t.equal(hits.filter((h) => h.status === 200).length, 1, 'accepted once');

  const log = await getJson(`/webhooks/messages/${message!.id}`);
  t.equal(log.status, 'delivered');
  t.same(
    log.attemptLog.map((a: { statusCode: number }) => a.statusCode),
    [500, 200],
  );
  t.equal(log.attemptLog[0].error, 'HTTP 500');
  t.equal(log.attemptLog[0].responseBody.length, 1024, 'response body truncated to 1 KB');
  t.ok(log.attemptLog.every((a: { durationMs: number }) => a.durationMs >= 0));
  const messages = await getJson(`/webhooks/endpoints/${endpoint.id}/messages`);
  t.equal(messages.items.length, 1);
  t.equal(messages.items[0].attempts, 2);
});

t.test('410 Gone disables the endpoint and gives the message up', async (t) => {
  receiver.on('/gone', () => ({ status: 410 }));
  const endpoint = await createEndpoint({ url: receiver.url('/gone'), eventTypes: ['*'] });
  const event = phaseChanged(dealId(), 2);
  await publish(event);
  const message = await eventually(async () => {
    const m = await messageOf(endpoint.id, event.id);
    return m?.status === 'failed' ? m : undefined;
  });
  t.equal(message?.failure_reason, 'endpoint_gone');
  const got = await getJson(`/webhooks/endpoints/${endpoint.id}`);
  t.equal(got.status, 'disabled');
  t.equal(got.disabledReason, 'gone');
  const failed = await outboxEvents('notification.webhook.failed', message!.webhook_id);
  t.match(failed, [{ reason: 'endpoint_gone', endpointDisabled: true, statusCode: 410 }]);

  const later = phaseChanged(dealId(), 3);
  await publish(later);
  await eventually(
    async () =>
      (await runtime.pool.query(`select 1 from notification.inbox where event_id = $1`, [later.id])).rowCount,
  );
  t.equal(await messageOf(endpoint.id, later.id), undefined, 'a disabled endpoint gets no new messages');
  t.equal(receiver.at('/gone').length, 1, 'and is not called again');

  // Recovery: after re-enabling, the given-up message can be sent again now, with the same webhook-id.
  receiver.on('/gone', () => ({ status: 204 }));
  await post(`/webhooks/endpoints/${endpoint.id}/enable`);
  const retried = await post(`/webhooks/messages/${message!.id}/retry`);
  t.equal(retried.statusCode, 202);
  await eventually(async () => (await messageOf(endpoint.id, event.id))?.status === 'delivered');
  t.equal(receiver.at('/gone')[1]?.headers['webhook-id'], message!.webhook_id);
  t.equal(receiver.at('/gone')[1]?.status, 204);
});

t.test('a 301 is not followed and counts as a failure', async (t) => {
  receiver.on('/moved', () => ({ status: 301, headers: { location: receiver.url('/moved-target') } }));
  const endpoint = await createEndpoint({ url: receiver.url('/moved'), eventTypes: ['*'] });
  const event = phaseChanged(dealId(), 2);
  await publish(event);
  const message = await eventually(async () => {
    const m = await messageOf(endpoint.id, event.id);
    return m && m.attempts >= 2 && m.lease_token === null ? m : undefined;
  });
  await post(`/webhooks/endpoints/${endpoint.id}/disable`);
  t.equal(message?.status, 'pending', 'still to be retried');
  t.equal(message?.last_status_code, 301);
  t.equal(receiver.at('/moved-target').length, 0, 'the redirect target was never called');
  t.ok(receiver.at('/moved').length >= 2);
});

t.test('429 with Retry-After: the next attempt waits as asked', async (t) => {
  receiver.on('/busy', (_r, nth) =>
    nth === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 200 },
  );
  const endpoint = await createEndpoint({ url: receiver.url('/busy'), eventTypes: ['*'] });
  const event = phaseChanged(dealId(), 2);
  await publish(event);
  await eventually(async () => (await messageOf(endpoint.id, event.id))?.status === 'delivered');
  const [first, second] = receiver.at('/busy');
  t.equal(first?.status, 429);
  t.equal(second?.status, 200);
  // The schedule alone would retry after 1.1 s; Retry-After asked for 2 s.
  t.ok(second!.at - first!.at >= 1_900, `waited ${second!.at - first!.at} ms`);
});

t.test(
  'an endpoint failing for longer than WEBHOOK_DISABLE_AFTER is disabled and an event says so',
  async (t) => {
    receiver.on('/down', () => ({ status: 503 }));
    const endpoint = await createEndpoint({ url: receiver.url('/down'), eventTypes: ['*'] });
    const event = phaseChanged(dealId(), 2);
    await publish(event);
    const message = await eventually(async () => {
      const m = await messageOf(endpoint.id, event.id);
      return m?.status === 'failed' ? m : undefined;
    });
    t.equal(message?.failure_reason, 'endpoint_disabled');
    const got = await getJson(`/webhooks/endpoints/${endpoint.id}`);
    t.equal(got.status, 'disabled');
    t.equal(got.disabledReason, 'failing');
    const failed = await outboxEvents('notification.webhook.failed', message!.webhook_id);
    t.match(failed, [{ reason: 'endpoint_disabled', endpointDisabled: true, statusCode: 503 }]);
    t.ok(receiver.at('/down').length >= 3, 'retried before giving up');
  },
);

t.test('ten phase changes of one deal arrive in version order', async (t) => {
  const seen = new Set<number>();
  receiver.on('/ordered', (request) => {
    const version = JSON.parse(request.body).data.version as number;
    // The first try of versions 3 and 6 fails, and replies come back at random speeds: without the order
    // rule, later versions would overtake.
    if ((version === 3 || version === 6) && !seen.has(version)) {
      seen.add(version);
      return { status: 500 };
    }
    return { status: 200, delayMs: Math.floor(Math.random() * 40) };
  });
  const deal = dealId();
  const endpoint = await createEndpoint({
    url: receiver.url('/ordered'),
    eventTypes: ['deal_tracking.deal.phase_changed'],
    dealIds: [deal],
  });
  const other = phaseChanged(dealId(), 1);
  await publish(other);
  for (let version = 1; version <= 10; version++) await publish(phaseChanged(deal, version));
  await eventually(
    async () =>
      (
        await db
          .selectFrom('webhook_message')
          .select('status')
          .where('endpoint_id', '=', endpoint.id)
          .execute()
      ).filter((m) => m.status === 'delivered').length === 10,
    20_000,
  );
  const accepted = receiver
    .at('/ordered')
    .filter((r) => r.status === 200)
    .map((r) => JSON.parse(r.body).data.version);
  t.same(accepted, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  t.equal(receiver.at('/ordered').length, 12, 'two retried versions');
  t.equal(await messageOf(endpoint.id, other.id), undefined, 'the deal filter kept the other deal out');
});

t.test(
  'a version that arrives after a newer one is still sent; a replay under a fresh id is not',
  async (t) => {
    const deal = dealId();
    const endpoint = await createEndpoint({
      url: receiver.url('/late'),
      eventTypes: ['deal_tracking.deal.phase_changed'],
      dealIds: [deal],
    });
    const delivered = (eventId: string) => async () =>
      (await messageOf(endpoint.id, eventId))?.status === 'delivered';
    const [v1, v2] = [phaseChanged(deal, 1), phaseChanged(deal, 2)];
    // As when v1's first handling failed (database down) and JetStream redelivered it after v2.
    await publish(v2);
    t.ok(await eventually(delivered(v2.id)), 'v2 delivered');
    await publish(v1);
    t.ok(await eventually(delivered(v1.id)), 'v1, arriving late, delivered too');
    const replay = { ...v2, id: newEventId() };
    await publish(replay);
    t.ok(
      await eventually(
        async () =>
          (await runtime.pool.query('select 1 from notification.inbox where event_id = $1', [replay.id]))
            .rowCount,
      ),
      'the replay was handled',
    );
    t.equal(await messageOf(endpoint.id, replay.id), undefined, 'no second message for v2 under a fresh id');
    t.same(
      receiver.at('/late').map((r) => JSON.parse(r.body).data.version),
      [2, 1],
      'each version delivered once',
    );
  },
);

t.test('an endpoint gets only the event types it subscribed to', async (t) => {
  const endpoint = await createEndpoint({
    url: receiver.url('/typed'),
    eventTypes: ['deal_tracking.deal.updated'],
  });
  const phase = phaseChanged(dealId(), 2);
  const updated = createEvent(dealUpdated, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealUpdated.example.dealId,
    data: dealUpdated.example,
  });
  await publish(phase);
  await publishEvent(runtime.js, runtime.ns, dealUpdated, updated);
  await eventually(() => receiver.at('/typed').length === 1);
  await eventually(
    async () =>
      (await runtime.pool.query(`select 1 from notification.inbox where event_id = $1`, [phase.id])).rowCount,
  );
  t.equal(JSON.parse(receiver.at('/typed')[0]!.body).type, 'nl.citydeals.deal_tracking.deal.updated.v1');
  t.equal(await messageOf(endpoint.id, phase.id), undefined);
});

t.test('replay: every message of an endpoint since a time is sent again, same webhook-ids', async (t) => {
  const start = new Date(Date.now() - 1000).toISOString();
  const endpoint = await createEndpoint({ url: receiver.url('/replay'), eventTypes: ['*'] });
  const deal = dealId();
  for (let version = 1; version <= 3; version++) await publish(phaseChanged(deal, version));
  await eventually(() => receiver.at('/replay').length === 3);
  await eventually(
    async () =>
      (await getJson(`/webhooks/endpoints/${endpoint.id}/messages?status=delivered`)).items.length === 3,
  );
  const res = await post(`/webhooks/endpoints/${endpoint.id}/replay`, { since: start });
  t.equal(res.statusCode, 202);
  t.equal(res.json().queued, 3);
  await eventually(() => receiver.at('/replay').length === 6);
  const hits = receiver.at('/replay');
  const ids = (from: number) => hits.slice(from, from + 3).map((h) => h.headers['webhook-id']);
  t.same(ids(3), ids(0), 'the same messages, in the same version order');
  t.same(
    hits.slice(3).map((h) => JSON.parse(h.body).data.version),
    [1, 2, 3],
  );
  const bad = await post(`/webhooks/endpoints/${endpoint.id}/replay`, { since: 'yesterday' });
  t.equal(bad.statusCode, 400);
  t.equal(bad.json().errors[0].field, 'body.since');
});
