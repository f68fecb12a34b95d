import { emailKinds } from '@citydeals/contracts';
import t from 'tap';
import {
  carriesMailTexts,
  mailTextKinds,
  mailTextsFor,
  normaliseMailText,
} from '../../src/mail-texts/mail-text.rules.ts';

const nl = { introduction: 'Welkom!', practical: 'Open vanaf 12:30.' };

t.test('the mails about the meeting itself carry the texts; the others do not', async (t) => {
  t.same(
    emailKinds.filter(carriesMailTexts).sort(),
    [...mailTextKinds].sort(),
    'exactly the listed kinds, all of them real kinds',
  );
  for (const kind of [
    'waitlisted',
    'registration_cancelled',
    'meeting_cancelled',
    'attendee_message',
  ] as const) {
    t.equal(mailTextsFor(kind, 'nl', new Map([['nl', nl]])), null, `${kind}: none`);
  }
});

t.test('the texts of the mail’s own language, never the other one', async (t) => {
  const texts = new Map([['nl', nl] as const]);
  t.same(mailTextsFor('reminder', 'nl', texts), nl);
  t.equal(mailTextsFor('reminder', 'en', texts), null, 'no English texts: none, not the Dutch ones');
  t.equal(mailTextsFor('reminder', 'nl', undefined), null, 'a meeting without texts');
  t.equal(
    mailTextsFor('reminder', 'nl', new Map([['nl', { introduction: '', practical: '' }]])),
    null,
    'both empty: none',
  );
});

t.test('one way of writing a text', async (t) => {
  t.equal(normaliseMailText('  Hallo  \r\nwereld \r\n\r\n\r\nTot dan\t\n\n'), 'Hallo\nwereld\n\n\nTot dan');
  t.equal(normaliseMailText('a\rb'), 'a\nb', 'old Mac line ends too');
  t.equal(normaliseMailText(' \n \n'), '', 'blank is empty');
});
