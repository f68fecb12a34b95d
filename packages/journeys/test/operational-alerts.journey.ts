/**
 * A dead letter in any service reaches the office: registration, deal-tracking and notification run as
 * processes on the shared Postgres and NATS (one namespace), and sustained streams of poison events arrive on
 * the streams they consume. Each service dead-letters them and announces it on its own stream exactly as its
 * runtime does; notification turns those announcements, and its own, into one mail per consumer to the
 * office's address, received by a real SMTP server, however many poison events keep coming.
 */
import { eventually, testServers, withAdmin } from '@citydeals/testkit';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { Test } from 'tap';
import type { JourneySystem } from './journey-system.ts';

const OFFICE = 'kantoor@example.org';

/**
 * The settings this journey needs: an office to alert. A poison event is dead-lettered at its first delivery
 * whatever CONSUMER_MAX_DELIVERIES says, so the services keep their retries for the other journeys.
 */
export const operationalAlertsEnv = { notification: { OFFICE_ALERT_EMAIL: OFFICE } };

export function operationalAlerts(t: Test, services: JourneySystem) {
  const { namespace, mails, registrationDb, notificationDb } = services;
  const dealTrackingDb = services.dealTrackingDb!;
  const count = (url: string, query: string, params: unknown[] = []) =>
    withAdmin(async (c) => Number((await c.query<{ n: string }>(query, params)).rows[0]?.n), url);
  const officeMails = (cause: string) =>
    mails.filter((m) => m.to === OFFICE && String(m.parsed.subject).endsWith(`: ${cause}`));

  t.test('poison events in a sustained stream: one mail per consumer to the office', async (t) => {
    const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-alerts' });
    t.teardown(() => nc.close());
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
    const nc = await connect({ servers: testServers.natsUrl, name: 'journeys-alerts' });
    t.teardown(() => nc.close());
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
      await count(notificationDb.url, 'select count(*) as n from notification.alert where cause = $1', [
        cause,
      ]),
      1,
      'one alert',
    );
    await eventually(() => officeMails(cause).length > 0, 30_000);
    t.equal(officeMails(cause).length, 1, 'one mail about deal-tracking');
    t.match(officeMails(cause)[0]?.parsed.text, /service: deal_tracking/);
  });
}
