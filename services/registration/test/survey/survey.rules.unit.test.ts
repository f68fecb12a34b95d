import t from 'tap';
import {
  answerRow,
  isSurveyed,
  maySendSurvey,
  SURVEY_LOOKBACK_MS,
  summarise,
  surveyDue,
} from '../../src/survey/survey.rules.ts';

const now = new Date('2027-03-12T09:00:00Z');
const ids = { timeOrdered: () => 'v7-id', random: () => 'random-id' };
const respondent = { registrationId: 'reg-1', meetingId: 'meeting-1', name: 'Sanne de Vries' };
const input = { rating: 4, mostUseful: 'de parade', suggestions: null, language: 'nl' as const };

t.test('only attendees checked in, with their data, are asked', async (t) => {
  t.ok(isSurveyed({ status: 'checked_in', erasedAt: null }));
  for (const status of ['confirmed', 'waitlisted', 'cancelled', 'no_show']) {
    t.notOk(isSurveyed({ status, erasedAt: null }), status);
  }
  t.notOk(isSurveyed({ status: 'checked_in', erasedAt: now }), 'erased');
});

t.test('sent by the office once started; by the sweep within a week after the end', async (t) => {
  const startsAt = new Date(now.getTime() + 1000);
  t.notOk(maySendSurvey({ status: 'published', startsAt }, now));
  t.ok(maySendSurvey({ status: 'published', startsAt: now }, now));
  t.notOk(maySendSurvey({ status: 'cancelled', startsAt: now }, now));
  t.ok(surveyDue({ status: 'published', endsAt: now }, now));
  t.notOk(surveyDue({ status: 'published', endsAt: new Date(now.getTime() + 1) }, now), 'not before the end');
  t.notOk(surveyDue({ status: 'published', endsAt: new Date(now.getTime() - SURVEY_LOOKBACK_MS) }, now));
  t.notOk(surveyDue({ status: 'draft', endsAt: now }, now));
});

t.test('an anonymous answer keeps nothing that leads to its person', async (t) => {
  t.same(answerRow({ ...input, giveName: false }, respondent, ids, now), {
    id: 'random-id',
    meeting_id: 'meeting-1',
    registration_id: null,
    respondent_name: null,
    language: 'nl',
    rating: 4,
    most_useful: 'de parade',
    suggestions: null,
    answered_on: '2027-03-12',
  });
  const named = answerRow({ ...input, giveName: true }, respondent, ids, now);
  t.same([named.id, named.registration_id, named.respondent_name], ['v7-id', 'reg-1', 'Sanne de Vries']);
  const erasedMeanwhile = answerRow({ ...input, giveName: true }, { ...respondent, name: null }, ids, now);
  t.same(
    [erasedMeanwhile.registration_id, erasedMeanwhile.respondent_name],
    [null, null],
    'no name: anonymous',
  );
});

t.test('summary per meeting', async (t) => {
  t.same(summarise([]), { answered: 0, averageRating: null, ratings: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 } });
  t.same(summarise([5, 4, 4]), {
    answered: 3,
    averageRating: 4.33,
    ratings: { 1: 0, 2: 0, 3: 0, 4: 2, 5: 1 },
  });
});
