import { randomUUID } from 'node:crypto';
import type { AttendeeSnapshot } from '@citydeals/contracts';
import t from 'tap';
import { applyMeetingSnapshot, lockMeetings } from '../src/read-models/meeting.repository.ts';
import { applyAttendeeSnapshots } from '../src/read-models/recipient.repository.ts';
import { planRemindersOf } from '../src/reminders/reminder.service.ts';
import { attendeeSnapshot, meetingSnapshot } from './email/email.fixture.ts';
import { notificationSchema } from './harness.ts';

const schemaUnderTest = await notificationSchema();
t.teardown(() => schemaUnderTest.close());
const { db } = schemaUnderTest;

const now = new Date();
const meeting = meetingSnapshot();
const meetingId = meeting.meetingId;
await db.transaction().execute((trx) => applyMeetingSnapshot(trx, meeting));

const attendee = (registrationId: string, version: number, status: AttendeeSnapshot['status']) =>
  attendeeSnapshot(meetingId, {
    registrationId,
    version,
    status,
    position: status === 'waitlisted' ? 1 : null,
  } as Partial<AttendeeSnapshot>);

const reminderStatuses = (registrationId: string) =>
  db
    .selectFrom('reminder')
    .select(['reminder_offset', 'status'])
    .where('registration_id', '=', registrationId)
    .orderBy('reminder_offset')
    .execute();

t.test('a snapshot says whether its recipient is seen for the first time', async (t) => {
  const id = randomUUID();
  const first = await db
    .transaction()
    .execute((trx) => applyAttendeeSnapshots(trx, [attendee(id, 1, 'waitlisted')]));
  t.equal(first.get(id)?.first_seen, true, 'inserted');
  const second = await db
    .transaction()
    .execute((trx) => applyAttendeeSnapshots(trx, [attendee(id, 2, 'confirmed')]));
  t.equal(second.get(id)?.first_seen, false, 'updated');
  t.equal(second.get(id)?.status, 'confirmed');
  const stale = await db
    .transaction()
    .execute((trx) => applyAttendeeSnapshots(trx, [attendee(id, 1, 'waitlisted')]));
  t.equal(stale.size, 0, 'an older snapshot is not applied');
});

t.test('reminders already handled are kept when a known recipient is planned again', async (t) => {
  const id = randomUUID();
  const plan = () =>
    db.transaction().execute(async (trx) => {
      const meetings = await lockMeetings(trx, [meetingId]);
      const applied = await applyAttendeeSnapshots(trx, [attendee(id, version, 'confirmed')]);
      const recipient = applied.get(id)!;
      await planRemindersOf(trx, now, [{ meeting: meetings.get(meetingId)!, recipient }]);
      return recipient.first_seen;
    });
  let version = 1;
  t.equal(await plan(), true);
  t.same(await reminderStatuses(id), [
    { reminder_offset: 'P1D', status: 'pending' },
    { reminder_offset: 'P7D', status: 'pending' },
  ]);
  // The week-before reminder is in the mail queue; a later snapshot of the same registration must not plan it again.
  await db
    .updateTable('reminder')
    .set({ status: 'queued' })
    .where('registration_id', '=', id)
    .where('reminder_offset', '=', 'P7D')
    .execute();
  version = 2;
  t.equal(await plan(), false, 'seen before: its reminders are looked up');
  t.same(await reminderStatuses(id), [
    { reminder_offset: 'P1D', status: 'pending' },
    { reminder_offset: 'P7D', status: 'queued' },
  ]);
});
