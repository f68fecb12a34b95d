/**
 * A dead letter in any service reaches the office: registration, deal-tracking and notification run as
 * processes on the shared Postgres and NATS (one namespace), and sustained streams of poison events arrive on
 * the streams they consume. Each service dead-letters them and announces it on its own stream exactly as its
 * runtime does; notification turns those announcements, and its own, into one mail per consumer to the
 * office's address, received by a real SMTP server, however many poison events keep coming.
 */
import { once } from 'node:events';
import {
  createQuickTestDatabase,
  deleteNamespaceStreams,
  eventually,
  testServers,
  testServiceEnv,
  uniqueName,
  withAdmin,
} from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import t from 'tap';
import { startProcess } from './service-process.ts';

const OFFICE = 'kantoor@example.org';
const mails: { to: string; parsed: ParsedMail }[] = [];
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS', 'AUTH'],
  logger: false,
  disableReverseLookup: true,
  onData(stream, session, callback) {
    simpleParser(stream, { skipTextToHtml: true }).then(
      (parsed) => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address).join(','), parsed });
        callback();
      },
      (err: Error) => callback(err),
    );
  },
});
smtp.listen(0, '127.0.0.1');
await once(smtp.server, 'listening');
const smtpPort = (smtp.server.address() as { port: number }).port;

const namespace = uniqueName('t');
const registrationDb = await createQuickTestDatabase();
const dealTrackingDb = await createQuickTestDatabase();
const notificationDb = await createQuickTestDatabase();
const registration = await startProcess('registration', {
  ...testServiceEnv(registrationDb, namespace),
  CONSUMER_MAX_DELIVERIES: '1',
});
const dealTracking = await startProcess('deal-tracking', {
  ...testServiceEnv(dealTrackingDb, namespace),
  CONSUMER_MAX_DELIVERIES: '1',
});
const notification = await startProcess('notification', {
  ...testServiceEnv(notificationDb, namespace),
  SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
  MAIL_POLL_MS: '50',
  OFFICE_ALERT_EMAIL: OFFICE,
  CONSUMER_MAX_DELIVERIES: '1',
});
const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-alerts' });
t.teardown(async () => {
  await notification.stop();
  await dealTracking.stop();
  await registration.stop();
  await deleteNamespaceStreams(await jetstreamManager(nc), namespace).finally(() => nc.close());
  await Promise.all([registrationDb.drop(), dealTrackingDb.drop(), notificationDb.drop()]);
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

const count = (url: string, query: string, params: unknown[] = []) =>
  withAdmin(async (c) => Number((await c.query<{ n: string }>(query, params)).rows[0]?.n), url);
const officeMails = (cause: string) =>
  mails.filter((m) => m.to === OFFICE && String(m.parsed.subject).endsWith(`: ${cause}`));

t.test('poison events in a sustained stream: one mail per consumer to the office', async (t) => {
  const js = jetstream(nc);
  const poisoned = 15;
  for (let i = 0; i < poisoned; i++) {
    await js.publish(`${namespace}.deal_tracking.deal.updated`, `{"no": "cloud event", "n": ${i}}`, {
      msgID: `poison-${namespace}-${i}`,
    });
  }
  const registrationCause = 'dead_lettered:registration:registration-deal-projection';
  const notificationCause = 'dead_lettered:notification:notification-deal-tracking-events';

  // Every dead letter of registration was announced by registration and handled by notification.
  const handled = await eventually(async () => {
    const letters = await count(registrationDb.url, 'select count(*) as n from registration.dead_letter');
    const announcements = await count(
      notificationDb.url,
      `select count(*) as n from notification.inbox where consumer = 'notification-alerts-registration'`,
    );
    const own = await count(
      notificationDb.url,
      `select count(*) as n from notification.inbox where consumer = 'notification-alerts-notification'`,
    );
    return letters === poisoned && announcements === poisoned && own >= poisoned;
  }, 60_000);
  t.ok(handled, 'fifteen dead letters in each service, every announcement handled');

  const alerts = (cause: string) =>
    count(notificationDb.url, 'select count(*) as n from notification.alert where cause = $1', [cause]);
  t.equal(await alerts(registrationCause), 1, 'one alert about registration’s consumer');
  t.equal(await alerts(notificationCause), 1, 'and its own consumer has its own');

  await eventually(
    () => officeMails(registrationCause).length > 0 && officeMails(notificationCause).length > 0,
    30_000,
  );
  t.equal(officeMails(registrationCause).length, 1, 'one mail about registration');
  t.equal(officeMails(notificationCause).length, 1, 'one mail about notification');
  const [mail] = officeMails(registrationCause);
  t.match(mail?.parsed.subject, /Gebeurtenis niet verwerkt/);
  t.match(mail?.parsed.text, /consumer: registration-deal-projection/);
  t.match(mail?.parsed.text, /service: registration/);
});

t.test('and from deal-tracking: poison erasure requests, one mail about its consumer', async (t) => {
  const js = jetstream(nc);
  const poisoned = 5;
  for (let i = 0; i < poisoned; i++) {
    await js.publish(`${namespace}.registration.person.erased`, `{"no": "cloud event", "n": ${i}}`, {
      msgID: `poison-erasure-${namespace}-${i}`,
    });
  }
  const cause = 'dead_lettered:deal_tracking:deal-tracking-person-erasures';
  const handled = await eventually(async () => {
    const letters = await count(dealTrackingDb.url, 'select count(*) as n from deal_tracking.dead_letter');
    const announcements = await count(
      notificationDb.url,
      `select count(*) as n from notification.inbox where consumer = 'notification-alerts-deal-tracking'`,
    );
    return letters === poisoned && announcements === poisoned;
  }, 60_000);
  t.ok(handled, 'five dead letters in deal-tracking, each announcement handled by notification');
  t.equal(
    await count(notificationDb.url, 'select count(*) as n from notification.alert where cause = $1', [cause]),
    1,
    'one alert',
  );
  await eventually(() => officeMails(cause).length > 0, 30_000);
  t.equal(officeMails(cause).length, 1, 'one mail about deal-tracking');
  t.match(officeMails(cause)[0]?.parsed.text, /service: deal_tracking/);
});
