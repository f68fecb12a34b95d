import t from 'tap';
import { fieldErrorsOf } from '../src/meetings/meeting.rules.ts';
import { cumulativeByDay } from '../src/overview/overview.rules.ts';

t.test('registrations counted up per calendar day of the meeting’s zone, quiet days included', async (t) => {
  t.same(cumulativeByDay([], 'Europe/Amsterdam'), []);
  t.same(
    cumulativeByDay(
      ['2027-01-10T09:00:00Z', '2027-01-10T23:30:00Z', '2027-01-12T08:00:00Z', '2027-01-09T23:30:00Z'],
      'Europe/Amsterdam',
    ),
    [
      // 23:30 UTC on the 10th is the 11th in Amsterdam; 23:30 UTC on the 9th is the 10th.
      { day: '2027-01-10', total: 2 },
      { day: '2027-01-11', total: 3 },
      { day: '2027-01-12', total: 4 },
    ],
  );
  t.same(
    cumulativeByDay(['2027-03-27T12:00:00Z', '2027-03-29T12:00:00Z'], 'Europe/Amsterdam'),
    [
      { day: '2027-03-27', total: 1 },
      { day: '2027-03-28', total: 1 },
      { day: '2027-03-29', total: 2 },
    ],
    'across the change to summer time, one point per day',
  );
});

t.test('a service’s field errors land beside the console’s fields', async (t) => {
  t.same(
    fieldErrorsOf(
      {
        errors: [
          { field: 'body.venue.name', message: 'Too small' },
          { field: 'body.slug', message: 'taken' },
        ],
      },
      'title',
    ),
    { venueName: 'Too small', slug: 'taken' },
  );
  t.same(fieldErrorsOf({ detail: 'meeting cancelled' }, 'title'), { title: 'meeting cancelled' });
});
