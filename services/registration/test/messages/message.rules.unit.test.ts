import t from 'tap';
import { sendTime, textFor } from '../../src/messages/message.rules.ts';

const nl = { subject: 'Welkom', body: 'Tot donderdag.' };
const en = { subject: 'Welcome', body: 'See you Thursday.' };

t.test('each attendee gets their own language, or the one the office wrote', async (t) => {
  t.same(textFor({ nl, en }, 'en'), { language: 'en', text: en });
  t.same(textFor({ nl, en }, 'nl'), { language: 'nl', text: nl });
  t.same(textFor({ nl }, 'en'), { language: 'nl', text: nl }, 'only Dutch written: Dutch for everyone');
  t.same(textFor({ en }, 'nl'), { language: 'en', text: en });
  t.throws(() => textFor({}, 'nl'), 'a message without any text is a bug, not a mail');
});

t.test('a message goes out at once unless its time is still to come', async (t) => {
  const now = new Date('2027-01-10T10:00:00Z');
  t.same(sendTime(undefined, now), { sendAt: now, now: true });
  t.same(sendTime(new Date('2027-01-10T09:00:00Z'), now), { sendAt: now, now: true }, 'a past time: now');
  t.same(sendTime(now, now), { sendAt: now, now: true });
  const later = new Date('2027-01-10T10:00:01Z');
  t.same(sendTime(later, now), { sendAt: later, now: false });
});
