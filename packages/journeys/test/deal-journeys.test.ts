/**
 * The journeys through deal-tracking on one system: registration, deal-tracking and notification as
 * processes on the shared Postgres and NATS, notification sending to a real SMTP server
 * (`journey-system.ts`). They run one after the other on the same processes. The attendee journeys run on a
 * system of their own (`attendee-journeys.test.ts`): the deal news of a reminder runs from the meeting
 * before, of any journey.
 */
import t from 'tap';
import { dealNews, dealNewsEnv } from './deal-news.journey.ts';
import { startJourneySystem } from './journey-system.ts';
import { operationalAlerts, operationalAlertsEnv } from './operational-alerts.journey.ts';

// Three service processes: more than the default file timeout on a busy machine.
t.setTimeout(400_000);

const system = await startJourneySystem({
  dealTracking: true,
  env: { notification: { ...dealNewsEnv.notification, ...operationalAlertsEnv.notification } },
});
t.teardown(() => system.close());

t.test('deal news in the last reminder', async (t) => dealNews(t, system));
t.test('dead letters of every service reach the office', async (t) => operationalAlerts(t, system));
