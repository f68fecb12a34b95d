/**
 * The attendee journeys on one system: registration and notification as processes on the shared Postgres
 * and NATS, notification sending to a real SMTP server (`journey-system.ts`). Starting the processes is most
 * of a journey's cost, so they run one after the other on the same processes, each with meetings and
 * addresses of its own; the settings are the union of what each journey asks for. Every attendee mail kind
 * has a system of its own (`attendee-mails.test.ts`): the sender checks expiry on its shifted reminder clock.
 */
import t from 'tap';
import { addressConfirmation } from './address-confirmation.journey.ts';
import { attendeeMessages, attendeeMessagesEnv } from './attendee-messages.journey.ts';
import { startJourneySystem } from './journey-system.ts';
import { mailTexts, mailTextsEnv } from './mail-texts.journey.ts';
import { meetingFeed, meetingFeedEnv } from './meeting-feed.journey.ts';
import { surveyErasure } from './survey-erasure.journey.ts';

// Five journeys: more than the default file timeout on a busy machine.
t.setTimeout(600_000);

const envs = [attendeeMessagesEnv, mailTextsEnv, meetingFeedEnv];
const system = await startJourneySystem({
  env: {
    registration: Object.assign({}, ...envs.map((e) => ('registration' in e ? e.registration : {}))),
    notification: Object.assign({}, ...envs.map((e) => ('notification' in e ? e.notification : {}))),
  },
});
t.teardown(() => system.close());

t.test('the address confirmed before a seat is held', async (t) => addressConfirmation(t, system));
t.test('messages to the attendees of a meeting', async (t) => attendeeMessages(t, system));
t.test('mail texts of a meeting', async (t) => mailTexts(t, system));
t.test('the survey erased with the person', async (t) => surveyErasure(t, system));
t.test('a meeting in the change feed and the webhooks', async (t) => meetingFeed(t, system));
