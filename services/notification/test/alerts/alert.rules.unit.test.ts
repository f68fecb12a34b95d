import { alertEndpointDisabled, createEvent } from '@citydeals/contracts';
import t from 'tap';
import { composeAlertMail } from '../../src/alerts/alert.mail.ts';
import { causeOf, decideAlert, mailsFailing, mailsSuppressing } from '../../src/alerts/alert.rules.ts';

const hour = 3600_000;
const at = (ms: number) => new Date(Date.UTC(2026, 10, 23, 10) + ms);

t.test('decideAlert: once per cause per window, what was held back told with the next', async (t) => {
  t.same(decideAlert({ lastRaisedAt: null, heldBack: 0 }, at(0), hour), { action: 'raise', occurrences: 1 });
  // Given an alert at 10:00, when the cause occurs again within the hour, then it is held back…
  for (const ms of [0, 1, 30 * 60_000, hour - 1]) {
    t.same(
      decideAlert({ lastRaisedAt: at(0), heldBack: 3 }, at(ms), hour),
      { action: 'hold' },
      `after ${ms} ms`,
    );
  }
  // …and at the hour it raises, counting the occurrences since the last alert.
  t.same(decideAlert({ lastRaisedAt: at(0), heldBack: 3 }, at(hour), hour), {
    action: 'raise',
    occurrences: 4,
  });
  t.same(decideAlert({ lastRaisedAt: at(0), heldBack: 0 }, at(5 * hour), hour), {
    action: 'raise',
    occurrences: 1,
  });
  // A clock that went back: no second alert.
  t.same(decideAlert({ lastRaisedAt: at(0), heldBack: 0 }, at(-hour), hour), { action: 'hold' });
  // The window is configurable.
  t.same(decideAlert({ lastRaisedAt: at(0), heldBack: 0 }, at(5_000), 5_000), {
    action: 'raise',
    occurrences: 1,
  });
});

t.test('a sustained failure of one cause raises one alert per window', async (t) => {
  // One occurrence a minute for three hours: alerts at 0, 60 and 120 minutes, each counting the hour before.
  let state = { lastRaisedAt: null as Date | null, heldBack: 0 };
  const raised: { minute: number; occurrences: number }[] = [];
  for (let minute = 0; minute < 180; minute++) {
    const decision = decideAlert(state, at(minute * 60_000), hour);
    if (decision.action === 'raise') {
      raised.push({ minute, occurrences: decision.occurrences });
      state = { lastRaisedAt: at(minute * 60_000), heldBack: 0 };
    } else state = { ...state, heldBack: state.heldBack + 1 };
  }
  t.same(raised, [
    { minute: 0, occurrences: 1 },
    { minute: 60, occurrences: 60 },
    { minute: 120, occurrences: 60 },
  ]);
});

t.test('causes: one key per endpoint, per consumer of a service, one for the mail stream', async (t) => {
  t.not(causeOf.endpointDisabled('e1'), causeOf.endpointDisabled('e2'));
  t.not(causeOf.endpointDisabled('e1'), causeOf.retriesExhausted('e1'));
  t.not(causeOf.deadLettered('registration', 'c'), causeOf.deadLettered('notification', 'c'));
  t.not(causeOf.deadLettered('notification', 'c'), causeOf.consumerFellBehind('notification', 'c'));
  t.equal(causeOf.mailsFailed(), 'mails_failed');
});

t.test('mail thresholds: those of the Prometheus rules', async (t) => {
  const thresholds = { maxFailedRatio: 0.1, minVolume: 20, maxSuppressed: 10 };
  t.notOk(mailsFailing({ total: 19, failed: 19, suppressed: 0 }, thresholds), 'too few mails to judge');
  t.notOk(mailsFailing({ total: 20, failed: 2, suppressed: 0 }, thresholds), 'exactly 10% is not above');
  t.ok(mailsFailing({ total: 20, failed: 3, suppressed: 0 }, thresholds));
  t.notOk(mailsSuppressing({ total: 0, failed: 0, suppressed: 10 }, thresholds), 'ten is not above ten');
  t.ok(mailsSuppressing({ total: 0, failed: 0, suppressed: 11 }, thresholds));
});

t.test('the office mail: the facts, the advice and the window as configured', async (t) => {
  const event = createEvent(alertEndpointDisabled, {
    id: '01936d00-0000-7000-8000-00000000a1e7',
    time: at(0),
    source: '/notification',
    subject: alertEndpointDisabled.example.cause,
    data: alertEndpointDisabled.example,
  });
  const compose = (language: 'nl' | 'en', windowMs: number) =>
    composeAlertMail(
      { kind: 'endpointDisabled', event, webhookMessages: 0, emailId: null },
      { address: 'kantoor@example.org', language, windowMs },
      { id: '01936d00-0000-7000-8000-00000000a1e8', messageIdDomain: 'cop.example.org', now: at(0) },
    );
  const nl = compose('nl', hour);
  t.equal(nl.subject, `[City Deals] Webhook-endpoint uitgeschakeld: ${alertEndpointDisabled.example.cause}`);
  t.match(nl.text_body, `endpointId: ${alertEndpointDisabled.example.endpointId}`);
  t.match(nl.text_body, 'alert: 01936d00-0000-7000-8000-00000000a1e7');
  t.match(nl.text_body, 'hooguit één melding per uur.');
  t.match(compose('nl', 2 * hour).text_body, 'per 2 uur.');
  t.match(compose('en', 30 * 60_000).text_body, 'At most one alert per 30 minutes follows');
  t.match(nl, { kind: 'operational_alert', recipient: 'kantoor@example.org', registration_id: null });
  t.equal(nl.dedupe_key, 'alert:01936d00-0000-7000-8000-00000000a1e7', 'one mail per alert');
  t.notMatch(nl.html_body, /<script/);
});
