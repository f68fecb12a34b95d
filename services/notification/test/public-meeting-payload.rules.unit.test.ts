import { createEvent, dealUpdated, publicMeetingChanged } from '@citydeals/contracts';
import t from 'tap';
import { dealRefOf, MAX_PAYLOAD_BYTES, webhookPayload } from '../src/webhooks/payload.rules.ts';

const now = new Date('2027-02-01T10:00:00Z');
const meetingEvent = createEvent(publicMeetingChanged, {
  id: '01936a99-0000-7abc-8def-0123456789ac',
  time: now,
  source: '/registration',
  subject: publicMeetingChanged.example.meetingId,
  data: publicMeetingChanged.example,
});

t.test('a meeting event is about no deal: its version is not a deal version', async (t) => {
  t.same(dealRefOf(meetingEvent), { dealId: null, dealVersion: null });
  const dealEvent = createEvent(dealUpdated, {
    id: '01936a99-0000-7abc-8def-0123456789ab',
    time: now,
    source: '/deal-tracking',
    subject: dealUpdated.example.dealId,
    data: dealUpdated.example,
  });
  t.same(dealRefOf(dealEvent), {
    dealId: dealUpdated.example.dealId,
    dealVersion: dealUpdated.example.version,
  });
});

t.test('a meeting event too large for a webhook goes thin with its meeting id and version', async (t) => {
  t.same(JSON.parse(webhookPayload(meetingEvent)), meetingEvent);
  const huge = { ...meetingEvent, data: { ...meetingEvent.data, title: 'x'.repeat(MAX_PAYLOAD_BYTES) } };
  const thin = JSON.parse(webhookPayload(huge));
  t.same(thin.data, {
    meetingId: meetingEvent.data.meetingId,
    version: meetingEvent.data.version,
    truncated: true,
  });
  t.equal(thin.type, meetingEvent.type);
});
