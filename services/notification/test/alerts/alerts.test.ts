/**
 * Operational alerts against the real servers: Postgres, NATS JetStream, a real SMTP server for the office's
 * mail and a real HTTP receiver for the alert webhooks. Each failure is sustained (many failing messages,
 * mails or poison events, a durable that stays behind); each cause must raise one alert, one event delivered
 * to the subscribed endpoint and one mail, until the window has passed (the alert clock is moved an hour).
 * The facts the alerts come from are the ones the service's own code emits: its webhook worker, its mail
 * sender, its consumer runner and its lag watch.
 */
import { createEvent, dealPhaseChanged } from '@citydeals/contracts';
import { publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import { adminHeaders, eventually } from '@citydeals/testkit';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import {
  attendeeSnapshot,
  eventFeed,
  meetingSnapshot,
  startSmtpServer,
  testClock,
} from '../email/email.fixture.ts';
import { startNotification } from '../harness.ts';
import { endpointCreator } from '../webhooks.endpoints.ts';
import { startReceiver } from '../webhooks.receiver.ts';

const OFFICE = 'office@example.org';
const smtp = await startSmtpServer({ reply: (address) => (address.startsWith('bounce-') ? 550 : undefined) });
const receiver = await startReceiver();
receiver.on('/a', () => ({ status: 503 }));
receiver.on('/d', () => ({ status: 503 }));
const alertClock = testClock();
const ctx = await startNotification(
  {
    SMTP_URL: smtp.url,
    MAIL_POLL_MS: '50',
    OFFICE_ALERT_EMAIL: OFFICE,
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_ALLOWED_PORTS: '*',
    WEBHOOK_RETRY_SCHEDULE: '100ms,100ms',
    WEBHOOK_RETRY_JITTER: '0',
    WEBHOOK_POLL_INTERVAL: '50ms',
    CONSUMER_MAX_DELIVERIES: '1',
    CONSUMER_LAG_THRESHOLD: '30',
    CONSUMER_LAG_AFTER_MS: '0',
    CONSUMER_LAG_CHECK_MS: '100',
  },
  { alertClock },
);
t.teardown(async () => {
  await ctx.close();
  await receiver.close();
  await smtp.close();
});
const { http, runtime } = ctx.service;
const db = runtime.db;
const createEndpoint = endpointCreator(http);
const post = (url: string) => http.inject({ method: 'POST', url, headers: adminHeaders });

const alertSubjects = [
  'notification.alert.endpoint_disabled',
  'notification.alert.retries_exhausted',
  'notification.alert.mails_failed',
  'notification.alert.mails_suppressed',
  'notification.alert.dead_lettered',
  'notification.alert.consumer_fell_behind',
];
const ops = await createEndpoint({ url: receiver.url('/ops'), eventTypes: alertSubjects });

const alertsOf = (cause: string) =>
  db.selectFrom('alert').selectAll().where('cause', '=', cause).orderBy('raised_at').execute();
const causeState = (cause: string) =>
  db.selectFrom('alert_cause').selectAll().where('cause', '=', cause).executeTakeFirst();
/** The alert webhooks the operations endpoint received about a cause, verified per Standard Webhooks. */
const opsReceived = (cause: string) =>
  receiver
    .at('/ops')
    .map((r) => {
      new Webhook(ops.secret).verify(r.body, r.headers as Record<string, string>);
      return JSON.parse(r.body) as {
        id: string;
        type: string;
        subject: string;
        data: Record<string, unknown>;
      };
    })
    .filter((event) => event.subject === cause);
const officeMails = (cause: string) =>
  smtp.to(OFFICE).filter((m) => String(m.parsed.subject).endsWith(`: ${cause}`));

const dataOf = (alert: { payload: unknown } | undefined) =>
  (alert?.payload as { data?: Record<string, unknown> } | undefined)?.data ?? {};

/** Waits until `consumer` has handled `expected` facts of `subject` (matching `where`); returns how many. */
async function factsHandled(subject: string, consumer: string, expected: number, where = 'true') {
  return eventually(async () => {
    const { rows } = await runtime.pool.query<{ facts: number; handled: number }>(
      `select count(*)::int as facts,
         count(*) filter (where exists (select 1 from ${runtime.schema}.inbox i
           where i.consumer = $2 and i.event_id = o.event_id))::int as handled
       from ${runtime.schema}.outbox o where o.subject = $1 and (${where})`,
      [subject, consumer],
    );
    const { facts, handled } = rows[0]!;
    return handled >= expected && facts;
  }, 90_000);
}

function phaseChanged(dealId: string) {
  return createEvent(dealPhaseChanged, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealPhaseChanged.example, dealId, version: 1 },
  });
}

t.test('retries exhausted for many messages: one alert for the endpoint, not to it', async (t) => {
  const a = await createEndpoint({
    url: receiver.url('/a'),
    eventTypes: ['deal_tracking.deal.phase_changed', 'notification.alert.retries_exhausted'],
  });
  for (let i = 0; i < 5; i++) {
    await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, phaseChanged(newEventId()));
  }
  const cause = `retries_exhausted:${a.id}`;
  const facts = await factsHandled(
    'notification.webhook.failed',
    'notification-alerts-webhooks',
    5,
    `o.payload->'data'->>'endpointId' = '${a.id}'`,
  );
  t.equal(facts, 5, 'five messages were given up, each announced');
  const alerts = await alertsOf(cause);
  t.equal(alerts.length, 1, 'one alert for five exhausted messages');
  t.equal((await causeState(cause))?.held_back, 4, 'the other four are counted for the next alert');

  const [delivered] = (await eventually(() => opsReceived(cause).length > 0 && opsReceived(cause))) || [];
  t.equal(delivered?.type, 'nl.citydeals.notification.alert.retries_exhausted.v1');
  t.equal(delivered?.id, alerts[0]?.id, 'the webhook carries the alert event');
  t.match(delivered?.data, { endpointId: a.id, occurrences: 1, attempts: 3 });
  const toA = await db
    .selectFrom('webhook_message')
    .select('id')
    .where('endpoint_id', '=', a.id)
    .where('event_type', 'like', 'nl.citydeals.notification.alert.%')
    .execute();
  t.equal(toA.length, 0, 'the failing endpoint is not sent the alert about itself');

  const mails = (await eventually(() => officeMails(cause).length > 0 && officeMails(cause))) || [];
  t.equal(mails.length, 1, 'one mail to the office');
  t.match(mails[0]?.parsed.text, a.id);
  t.match(mails[0]?.parsed.text, alerts[0]!.id);

  // The office's mails are in the delivery log like any other.
  const log = await http.inject({ url: '/emails?kind=operational_alert&limit=500', headers: adminHeaders });
  t.equal(log.statusCode, 200, log.body);
  t.ok(
    log
      .json()
      .items.some(
        (m: { id: string; recipient: string }) => m.id === alerts[0]?.email_id && m.recipient === OFFICE,
      ),
    'the alert mail is listed with its kind',
  );
});

t.test('an endpoint failing until disabled: one alert per hour, the next one after the window', async (t) => {
  const d = await createEndpoint({
    url: receiver.url('/d'),
    eventTypes: ['deal_tracking.deal.phase_changed'],
  });
  // It has been failing for six days (longer than WEBHOOK_DISABLE_AFTER's 5): its next failure disables it.
  const failingFor6Days = () =>
    db
      .updateTable('webhook_endpoint')
      .set({ failing_since: new Date(Date.now() - 6 * 86_400_000) })
      .where('id', '=', d.id)
      .execute();
  const cause = `endpoint_disabled:${d.id}`;
  const failAgain = async (round: number) => {
    await failingFor6Days();
    await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, phaseChanged(newEventId()));
    await factsHandled(
      'notification.webhook.failed',
      'notification-alerts-webhooks',
      round,
      `o.payload->'data'->>'endpointId' = '${d.id}' and (o.payload->'data'->>'endpointDisabled')::boolean`,
    );
  };

  await failAgain(1);
  const endpoint = await db
    .selectFrom('webhook_endpoint')
    .selectAll()
    .where('id', '=', d.id)
    .executeTakeFirst();
  t.equal(endpoint?.enabled, false, 'disabled by the service');
  t.equal(endpoint?.disabled_reason, 'failing');
  t.equal((await alertsOf(cause)).length, 1, 'one alert');

  // The operator enables it, it keeps failing and is disabled again twice: within the hour, no new alert.
  for (const round of [2, 3]) {
    t.equal((await post(`/webhooks/endpoints/${d.id}/enable`)).statusCode, 200);
    await failAgain(round);
  }
  t.equal((await alertsOf(cause)).length, 1, 'still one alert within the hour');
  t.equal((await causeState(cause))?.held_back, 2);

  // An hour later the same cause raises its second alert, telling what happened in between.
  alertClock.advanceTo(new Date(Date.now() + 3600_000));
  t.equal((await post(`/webhooks/endpoints/${d.id}/enable`)).statusCode, 200);
  await failAgain(4);
  const alerts = await alertsOf(cause);
  t.equal(alerts.length, 2, 'a second alert after the window');
  t.match(alerts[1]?.payload, { data: { occurrences: 3, reason: 'failing', endpointId: d.id } });

  const received = (await eventually(() => opsReceived(cause).length >= 2 && opsReceived(cause))) || [];
  t.same(
    received.map((e) => e.id),
    alerts.map((a) => a.id),
    'the operations endpoint got exactly the two alerts',
  );
  t.equal(received[0]?.type, 'nl.citydeals.notification.alert.endpoint_disabled.v1');
  const mails = (await eventually(() => officeMails(cause).length >= 2 && officeMails(cause))) || [];
  t.equal(mails.length, 2, 'two mails to the office, one per alert');
  t.match(mails[0]?.parsed.subject, /Webhook-endpoint uitgeschakeld/);
});

t.test('a sustained stream of poison events: one dead-letter alert per consumer', async (t) => {
  const nc = runtime.nc;
  const poison = (subject: string, i: number) =>
    runtime.js.publish(runtime.ns.subject(subject), `{"not": "a cloud event", "n": ${i}}`, {
      msgID: newEventId(),
    });
  for (let i = 0; i < 20; i++) await poison('deal_tracking.deal.updated', i);
  // A second cause: the same trouble in another consumer.
  for (let i = 0; i < 3; i++) await poison(`registration.attendee.registered.${newEventId()}`, i);
  await nc.flush();

  const dealCause = 'dead_lettered:notification:notification-deal-tracking-events';
  const registrationCause = 'dead_lettered:notification:notification-registration-events';
  const facts = await factsHandled(
    'notification.consumer.dead_lettered',
    'notification-alerts-notification',
    23,
  );
  t.equal(facts, 23, 'every dead letter was announced and handled');
  t.equal((await alertsOf(dealCause)).length, 1, 'one alert for twenty poison events');
  t.equal((await causeState(dealCause))?.held_back, 19);
  t.equal((await alertsOf(registrationCause)).length, 1, 'the second consumer has its own alert');

  const [alert] = (await eventually(() => opsReceived(dealCause).length > 0 && opsReceived(dealCause))) || [];
  t.match(alert?.data, {
    service: 'notification',
    consumer: 'notification-deal-tracking-events',
    reason: 'poison',
    occurrences: 1,
  });
  const letter = await db
    .selectFrom('dead_letter')
    .selectAll()
    .where('id', '=', Number(alert?.data.deadLetterId))
    .executeTakeFirst();
  t.equal(letter?.consumer, 'notification-deal-tracking-events', 'the alert names a real dead letter');
  await eventually(() => officeMails(dealCause).length > 0 && officeMails(registrationCause).length > 0);
  t.equal(officeMails(dealCause).length, 1);
  t.equal(officeMails(registrationCause).length, 1);
});

t.test('mails failing and suppressed above the thresholds: one alert each', async (t) => {
  const feed = eventFeed(runtime.js, runtime.ns);
  const meeting = meetingSnapshot();
  await feed.scheduled(meeting);
  for (let i = 0; i < 25; i++) {
    await feed.registered(
      attendeeSnapshot(meeting.meetingId, { email: `bounce-${i}-${newEventId().slice(0, 8)}@example.org` }),
    );
  }
  const facts = await factsHandled('notification.email.failed', 'notification-alerts-mail', 25);
  t.ok(facts && facts >= 25, 'every rejected mail was announced and handled');
  const failed = await alertsOf('mails_failed');
  const suppressed = await alertsOf('mails_suppressed');
  t.equal(failed.length, 1, 'one alert for the failing mails');
  t.equal(suppressed.length, 1, 'one alert for the suppressed addresses');
  t.match(failed[0]?.payload, { data: { maxFailedRatio: 0.1, windowSeconds: 900 } });
  t.ok(Number(dataOf(failed[0]).total) >= 20, 'raised once the window held the minimum volume');
  t.ok(Number(dataOf(suppressed[0]).suppressed) > 10, 'raised once more than ten addresses were suppressed');
  await eventually(
    () => officeMails('mails_failed').length > 0 && officeMails('mails_suppressed').length > 0,
  );
  t.equal(officeMails('mails_failed').length, 1);
  t.equal(officeMails('mails_suppressed').length, 1);
});

t.test('a consumer that stays behind: reported at every check, alerted once', async (t) => {
  const durable = 'notification-deal-tracking-events';
  await runtime.consumers.get(durable)?.stop();
  for (let i = 0; i < 40; i++) {
    await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, phaseChanged(newEventId()));
  }
  const cause = `consumer_fell_behind:notification:${durable}`;
  const facts = await factsHandled(
    'notification.consumer.fell_behind',
    'notification-alerts-notification',
    5,
    `o.payload->'data'->>'consumer' = '${durable}'`,
  );
  t.ok(facts && facts >= 5, 'reported at several checks');
  t.equal((await alertsOf(cause)).length, 1, 'one alert');
  const [alert] = (await eventually(() => opsReceived(cause).length > 0 && opsReceived(cause))) || [];
  t.match(alert?.data, { service: 'notification', consumer: durable, threshold: 30 });
  t.ok(Number(alert?.data.backlog) > 30);
  await eventually(() => officeMails(cause).length > 0);
  t.equal(officeMails(cause).length, 1);
});
