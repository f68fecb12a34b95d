import t from 'tap';
import { localInput } from '../src/meetings/meeting.views.ts';
import {
  detailErrorsOf,
  detailFieldsOf,
  detailsBodyOf,
  detailValuesFromMeeting,
  detailValuesOf,
  meetingErrorsOf,
} from '../src/meetings/meeting-details.rules.ts';

const form = {
  language: 'en',
  agendaTime0: '13:00',
  agendaTitle0: ' Welcome ',
  agendaKind0: 'plenary',
  agendaTime1: '',
  agendaTitle1: '',
  agendaKind1: 'plenary',
  agendaTime2: '17:00',
  agendaTitle2: '',
  agendaKind2: 'drinks',
  reminderP7D: '1',
  reminderPT2H: '1',
  reminderP5D: '1',
  reminderOther: 'P10D, PT3H',
  registrationOpensAt: '',
  registrationClosesAt: '2027-03-09T17:00',
};

t.test(
  'the form as registration takes it: blank rows dropped, chosen and typed reminders, empty window null',
  async (t) => {
    const values = detailValuesOf(form);
    t.equal(values.agenda.length, 2, 'the blank row is the form’s spare one');
    t.same(detailsBodyOf(values).body, {
      language: 'en',
      agenda: [
        { time: '13:00', title: 'Welcome', kind: 'plenary' },
        { time: '17:00', title: '', kind: 'drinks' },
      ],
      reminderOffsets: ['P7D', 'PT2H', 'P10D', 'PT3H'],
      registrationOpensAt: null,
      registrationClosesAt: '2027-03-09T17:00',
    });
    t.same(
      detailValuesOf(detailFieldsOf(values)),
      values,
      'through the confirmation step’s hidden fields unchanged',
    );
    t.equal(detailValuesOf({ language: 'de' }).language, 'nl', 'an unknown language is the default');
  },
);

t.test('registration’s problem fields beside the form’s fields', async (t) => {
  const problem = {
    errors: [
      { field: 'body.agenda.1.title', message: 'Too small' },
      { field: 'body.reminderOffsets.3', message: 'P1M is not a duration in weeks, days, hours or minutes' },
      { field: 'body.registrationClosesAt', message: 'registration must close no later than the start' },
      { field: 'body.title', message: 'Required' },
    ],
  };
  t.same(detailErrorsOf(problem, [0, 2]), {
    agendaTitle2: 'Too small',
    reminders: 'P1M is not a duration in weeks, days, hours or minutes',
    registrationClosesAt: 'registration must close no later than the start',
  });
  t.same(
    meetingErrorsOf({ title: 'Required', agenda: 'Too small', reminderOffsets: 'x' }, problem, [0, 2]),
    {
      title: 'Required',
      agendaTitle2: 'Too small',
      reminders: 'P1M is not a duration in weeks, days, hours or minutes',
      registrationClosesAt: 'registration must close no later than the start',
    },
    'the coarse form of the same errors gives way',
  );
});

t.test('a meeting as the edit form’s values, the window in its own zone', async (t) => {
  const values = detailValuesFromMeeting(
    {
      language: 'nl',
      agenda: [{ time: '13:00', title: 'Inloop', kind: 'plenary' }],
      reminderOffsets: ['P7D', 'P10D'],
      registrationOpensAt: null,
      registrationClosesAt: '2027-03-09T16:00:00.000Z',
      timeZone: 'Europe/Amsterdam',
    },
    localInput,
  );
  t.same(values, {
    language: 'nl',
    agenda: [{ time: '13:00', title: 'Inloop', kind: 'plenary' }],
    reminders: ['P7D'],
    reminderOther: 'P10D',
    registrationOpensAt: '',
    registrationClosesAt: '2027-03-09T17:00',
  });
});
