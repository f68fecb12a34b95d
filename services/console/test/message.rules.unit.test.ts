import { attendeeRoles } from '@citydeals/contracts';
import t from 'tap';
import {
  instantOf,
  messageBodyOf,
  messageErrorsOf,
  messageFieldsOf,
  messageValuesOf,
} from '../src/messages/message.rules.ts';

const id = '01936c10-2b3c-7d4e-8f50-617283940a1b';
const deal = '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f';

t.test('the form as registration takes it: ticked statuses, filters, the languages written', async (t) => {
  const values = messageValuesOf(
    {
      id,
      status_confirmed: '1',
      status_checked_in: '1',
      status_cancelled: '1',
      [`deal_${deal}`]: '1',
      'deal_not-a-uuid': '1',
      role_dealmaker: '1',
      role_king: '1',
      subjectNl: 'Praktisch',
      bodyNl: 'De zaal is open.',
      subjectEn: '',
      bodyEn: '',
      sendAt: '2031-05-13T09:00',
    },
    attendeeRoles,
  );
  t.same(messageBodyOf(values, 'Europe/Amsterdam'), {
    id,
    statuses: ['confirmed', 'checked_in'],
    dealIds: [deal],
    roles: ['dealmaker'],
    texts: { nl: { subject: 'Praktisch', body: 'De zaal is open.' } },
    sendAt: '2031-05-13T07:00:00.000Z',
  });
  t.same(
    messageValuesOf(messageFieldsOf(values), attendeeRoles),
    values,
    'through the preview step unchanged',
  );
  const bare = messageBodyOf(
    messageValuesOf({ subjectEn: 'Only a subject' }, attendeeRoles),
    'Europe/Amsterdam',
  );
  t.same(
    bare,
    { statuses: [], texts: { en: { subject: 'Only a subject', body: '' } } },
    'registration judges it',
  );
});

t.test('wall-clock times in the meeting’s zone, across the clock changes', async (t) => {
  t.equal(instantOf('2031-01-10T12:00', 'Europe/Amsterdam'), '2031-01-10T11:00:00.000Z', 'winter');
  t.equal(instantOf('2031-07-10T12:00', 'Europe/Amsterdam'), '2031-07-10T10:00:00.000Z', 'summer');
  t.equal(
    instantOf('2031-03-30T02:30', 'Europe/Amsterdam'),
    '2031-03-30T01:30:00.000Z',
    'the skipped hour: 03:30 summer time',
  );
  t.equal(instantOf('morgen', 'Europe/Amsterdam'), null);
});

t.test('the services’ problem fields beside the form’s fields', async (t) => {
  t.same(
    messageErrorsOf({
      errors: [
        { field: 'body.statuses', message: 'Too small' },
        { field: 'body.texts.en.body', message: 'Required' },
        { field: 'body.texts', message: 'write the message in Dutch (nl), English (en) or both' },
        { field: 'body.sendAt', message: 'Invalid' },
      ],
    }),
    {
      statuses: 'Too small',
      bodyEn: 'Required',
      texts: 'write the message in Dutch (nl), English (en) or both',
      sendAt: 'Invalid',
    },
  );
  t.same(
    messageErrorsOf({ errors: [{ field: 'body.body', message: 'Too small' }] }, 'en'),
    {
      bodyEn: 'Too small',
    },
    'a preview’s field belongs to the language previewed',
  );
  t.same(messageErrorsOf({ detail: 'kapot' }), { texts: 'kapot' });
});
