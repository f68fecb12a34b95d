import type { Migrations } from '@citydeals/db';
import { type Kysely, sql } from 'kysely';

/** The service's own migrations, frozen in time: each takes Kysely<any> and never imports app types. */
export const migrations: Migrations = {
  '0001_meetings_registrations_deals': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('meeting')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('draft', 'published', 'cancelled')`),
        )
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
        .addColumn('time_zone', 'text', (c) => c.notNull())
        .addColumn('venue_name', 'text', (c) => c.notNull())
        .addColumn('venue_address', 'text', (c) => c.notNull())
        .addColumn('online_url', 'text')
        .addColumn('capacity', 'integer', (c) => c.notNull().check(sql`capacity > 0`))
        .addColumn('registration_opens_at', 'timestamptz')
        .addColumn('registration_closes_at', 'timestamptz')
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('agenda', 'jsonb', (c) => c.notNull())
        .addColumn('reminder_offsets', sql`text[]`, (c) => c.notNull())
        .addColumn('ics_sequence', 'integer', (c) => c.notNull())
        .addColumn('cancel_reason', 'text')
        .addColumn('published_at', 'timestamptz')
        .addColumn('cancelled_at', 'timestamptz')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .addCheckConstraint('meeting_ends_after_start', sql`ends_at > starts_at`)
        .execute();
      await db.schema.createIndex('meeting_starts_at').on('meeting').column('starts_at').execute();

      await db.schema
        .createTable('registration')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('seq', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('confirmed', 'waitlisted', 'cancelled', 'checked_in', 'no_show')`),
        )
        .addColumn('name', 'text')
        .addColumn('email', 'text')
        .addColumn('email_key', 'text')
        .addColumn('organisation', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('deal_id', 'uuid')
        .addColumn('dietary_needs', 'text')
        .addColumn('accessibility_needs', 'text')
        .addColumn('consent_photo', 'boolean', (c) => c.notNull())
        .addColumn('consent_attendee_list', 'boolean', (c) => c.notNull())
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.unique())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .addColumn('confirmed_at', 'timestamptz')
        .addColumn('cancelled_at', 'timestamptz')
        .addColumn('cancelled_by', 'text')
        .addColumn('checked_in_at', 'timestamptz')
        .addColumn('no_show_at', 'timestamptz')
        .addColumn('erased_at', 'timestamptz')
        .execute();
      // One live registration per address and meeting; after a cancellation the person may register anew.
      await sql`create unique index registration_one_live_per_email on registration (meeting_id, email_key)
        where status <> 'cancelled' and email_key is not null`.execute(db);
      await db.schema
        .createIndex('registration_meeting_status_seq')
        .on('registration')
        .columns(['meeting_id', 'status', 'seq'])
        .execute();
      await db.schema.createIndex('registration_email_key').on('registration').column('email_key').execute();

      await db.schema
        .createTable('deals')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('phase', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .execute();
    },
  },
  '0002_meeting_seat_counters': {
    async up(db: Kysely<any>) {
      // Seat decisions read these counters on the locked meeting row instead of counting registrations while
      // holding the lock; every status change of a registration updates them in its own transaction.
      await sql`alter table meeting
        add column seats_taken integer not null default 0,
        add column waitlist_length integer not null default 0`.execute(db);
      await sql`update meeting m set seats_taken = c.taken, waitlist_length = c.waiting
        from (
          select meeting_id,
            count(*) filter (where status in ('confirmed', 'checked_in', 'no_show'))::int as taken,
            count(*) filter (where status = 'waitlisted')::int as waiting
          from registration group by meeting_id
        ) c
        where c.meeting_id = m.id`.execute(db);
      await sql`alter table meeting add constraint meeting_seat_counters_not_negative
        check (seats_taken >= 0 and waitlist_length >= 0)`.execute(db);
    },
  },
  '0004_request_budget': {
    async up(db: Kysely<any>) {
      // Fixed-window counters shared by every replica: registrations per client and meeting, mails per
      // address. A key names an address only by its hash, and rows live one window (swept afterwards).
      await db.schema
        .createTable('request_budget')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'timestamptz', (c) => c.notNull())
        .addColumn('used', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('request_budget_window')
        .on('request_budget')
        .column('window_start')
        .execute();
    },
  },
  '0006_address_confirmation': {
    async up(db: Kysely<any>) {
      // Per meeting, off by default: a public registration first waits for its address to be confirmed.
      await sql`alter table meeting add column address_confirmation boolean not null default false`.execute(
        db,
      );
      // A request waiting for its address to be confirmed: it holds no seat and no waitlist place. Its id
      // becomes the registration's. Once confirmed it keeps no personal data (token hash and times only), so
      // a second click can be answered kindly until the row is swept after it expires.
      await db.schema
        .createTable('address_confirmation')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('email_key', 'text')
        .addColumn('input', 'jsonb')
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('confirmed_at', 'timestamptz')
        .execute();
      // One open request per address and meeting: asking again renews it (new link, same id).
      await sql`create unique index address_confirmation_one_open on address_confirmation (meeting_id, email_key)
        where confirmed_at is null`.execute(db);
      await db.schema
        .createIndex('address_confirmation_email_key')
        .on('address_confirmation')
        .column('email_key')
        .execute();
      await db.schema
        .createIndex('address_confirmation_expires_at')
        .on('address_confirmation')
        .column('expires_at')
        .execute();
    },
  },
  '0007_feedback_survey': {
    async up(db: Kysely<any>) {
      // One survey round per meeting, sent once after it ends (or when the office sends it).
      await db.schema
        .createTable('survey_round')
        .addColumn('meeting_id', 'uuid', (c) => c.primaryKey().references('meeting.id'))
        .addColumn('sent_at', 'timestamptz', (c) => c.notNull())
        .execute();
      // The single-use link of one attendee. `answered` has no time: a time would link an anonymous
      // answer to the invitation it came from.
      await db.schema
        .createTable('survey_invitation')
        .addColumn('registration_id', 'uuid', (c) => c.primaryKey().references('registration.id'))
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('answered', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();
      // An answer names its registration and person only when the person chose to give their name; an
      // anonymous answer has a random id and only the day it was given.
      await db.schema
        .createTable('survey_answer')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('registration_id', 'uuid')
        .addColumn('respondent_name', 'text')
        .addColumn('language', 'text', (c) => c.notNull())
        .addColumn('rating', 'integer', (c) => c.notNull().check(sql`rating between 1 and 5`))
        .addColumn('most_useful', 'text')
        .addColumn('suggestions', 'text')
        .addColumn('answered_on', 'date', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('survey_answer_meeting')
        .on('survey_answer')
        .columns(['meeting_id', 'answered_on'])
        .execute();
      await db.schema
        .createIndex('survey_answer_registration')
        .on('survey_answer')
        .column('registration_id')
        .execute();
    },
  },
  '0008_staff_action': {
    async up(db: Kysely<any>) {
      // Who changed what through the admin API: the person behind a console staff token, or the API key.
      await db.schema
        .createTable('staff_action')
        .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('at', 'timestamptz', (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('meeting_id', 'uuid')
        .addColumn('registration_id', 'uuid')
        .addColumn('status', 'integer', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('staff_action_meeting')
        .on('staff_action')
        .columns(['meeting_id', 'id'])
        .execute();
    },
  },
  '0009_public_meeting_feed': {
    async up(db: Kysely<any>) {
      // The public meeting feed: one row per event other systems get, in the order they were written. Only
      // the announcer writes it, one transaction at a time (an advisory lock), so positions taken at insert
      // are in commit order and a cursor never skips a row.
      await db.schema
        .createTable('meeting_feed')
        .addColumn('position', 'bigserial', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('event_id', 'uuid', (c) => c.notNull().unique())
        .addColumn('event', 'jsonb', (c) => c.notNull())
        .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
        .addUniqueConstraint('meeting_feed_version_unique', ['meeting_id', 'version'])
        .execute();
      // What the feed last said about each meeting, to decide what it says next.
      await db.schema
        .createTable('meeting_feed_state')
        .addColumn('meeting_id', 'uuid', (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('meeting_version', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('view', 'jsonb', (c) => c.notNull())
        .addColumn('seats_announced_at', 'timestamptz')
        .addColumn('attendance', 'jsonb')
        .addColumn('attendance_announced_at', 'timestamptz')
        .execute();
    },
  },
  '0010_attendee_messages': {
    async up(db: Kysely<any>) {
      // A message of the office to a meeting's attendees. It names who it goes to by filter, not by
      // person, so erasing someone leaves nothing of them here. `sent_at` is set in the transaction that
      // publishes one event per recipient: a message goes out whole, once.
      await db.schema
        .createTable('attendee_message')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('statuses', sql`text[]`, (c) => c.notNull())
        .addColumn('deal_ids', sql`uuid[]`)
        .addColumn('roles', sql`text[]`)
        .addColumn('texts', 'jsonb', (c) => c.notNull())
        .addColumn('send_at', 'timestamptz', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('sent_at', 'timestamptz')
        .addColumn('recipients', 'integer')
        .execute();
      await db.schema
        .createIndex('attendee_message_due')
        .on('attendee_message')
        .column('send_at')
        .where(sql.ref('sent_at'), 'is', null)
        .execute();
      await db.schema
        .createIndex('attendee_message_meeting')
        .on('attendee_message')
        .columns(['meeting_id', 'created_at'])
        .execute();
    },
  },
  '0011_meeting_questions': {
    async up(db: Kysely<any>) {
      // Questions the office adds to a meeting's registration form. A removed question keeps its row (so its
      // id never comes back as another question) but none of its answers.
      await db.schema
        .createTable('meeting_question')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) =>
          c
            .notNull()
            .check(sql`kind in ('short_text', 'long_text', 'one_choice', 'several_choices', 'yes_no')`),
        )
        .addColumn('required', 'boolean', (c) => c.notNull())
        .addColumn('label', 'jsonb', (c) => c.notNull())
        .addColumn('choices', 'jsonb', (c) => c.notNull())
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .addColumn('removed_at', 'timestamptz')
        .execute();
      await db.schema
        .createIndex('meeting_question_meeting')
        .on('meeting_question')
        .columns(['meeting_id', 'position'])
        .execute();
      // Personal data: erased with the registration, never put in an event.
      await db.schema
        .createTable('registration_answer')
        .addColumn('registration_id', 'uuid', (c) => c.notNull().references('registration.id'))
        .addColumn('question_id', 'uuid', (c) => c.notNull().references('meeting_question.id'))
        .addColumn('value', 'jsonb', (c) => c.notNull())
        .addPrimaryKeyConstraint('registration_answer_pk', ['registration_id', 'question_id'])
        .execute();
      await db.schema
        .createIndex('registration_answer_question')
        .on('registration_answer')
        .column('question_id')
        .execute();
    },
  },
  '0012_meeting_sessions': {
    async up(db: Kysely<any>) {
      // Sessions (workshops) within a meeting, each with its own places and waitlist. The counters are
      // the sessions' like the meeting's seat counters: changed only under the meeting row lock, so a choice
      // is decided on exact numbers without counting rows.
      await db.schema
        .createTable('meeting_session')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id').onDelete('cascade'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('starts_at', 'timestamptz', (c) => c.notNull())
        .addColumn('ends_at', 'timestamptz', (c) => c.notNull())
        .addColumn('capacity', 'integer', (c) => c.notNull().check(sql`capacity >= 1`))
        .addColumn('places_taken', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('waitlist_length', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'timestamptz', (c) => c.notNull())
        .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
        .addCheckConstraint('meeting_session_ends_after_start', sql`ends_at > starts_at`)
        .execute();
      await db.schema
        .createIndex('meeting_session_meeting')
        .on('meeting_session')
        .column('meeting_id')
        .execute();
      // One row per registration and session chosen. `seq` is the order of the session's waitlist: a
      // choice that waited for the meeting seat (`pending`) gets a new one when it takes effect.
      await db.schema
        .createTable('session_choice')
        .addColumn('registration_id', 'uuid', (c) =>
          c.notNull().references('registration.id').onDelete('cascade'),
        )
        .addColumn('session_id', 'uuid', (c) =>
          c.notNull().references('meeting_session.id').onDelete('cascade'),
        )
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('pending', 'placed', 'waitlisted')`),
        )
        .addColumn('seq', 'bigserial', (c) => c.notNull())
        .addColumn('chosen_at', 'timestamptz', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_choice_pk', ['registration_id', 'session_id'])
        .execute();
      await db.schema
        .createIndex('session_choice_waitlist')
        .on('session_choice')
        .columns(['session_id', 'seq'])
        .where(sql.ref('status'), '=', 'waitlisted')
        .execute();
    },
  },
  '0013_waitlist_offers': {
    async up(db: Kysely<any>) {
      // How a free seat reaches the waitlist: at once (automatic), or as an offer the person accepts in time.
      await db.schema
        .alterTable('meeting')
        .addColumn('waitlist_promotion', 'text', (c) =>
          c.notNull().defaultTo('automatic').check(sql`waitlist_promotion in ('automatic', 'offer')`),
        )
        .addColumn('offer_hours', 'integer', (c) =>
          c.notNull().defaultTo(48).check(sql`offer_hours between 1 and 336`),
        )
        // Seats held by open offers; the registering statement reads it under the meeting lock.
        .addColumn('seats_offered', 'integer', (c) => c.notNull().defaultTo(0).check(sql`seats_offered >= 0`))
        .execute();
      // An offer holds a seat for one waitlisted registration while it is open; it names the person only
      // by registration id and keeps only the hash of its link's token, so erasure leaves nothing here.
      await db.schema
        .createTable('waitlist_offer')
        .addColumn('id', 'uuid', (c) => c.primaryKey())
        .addColumn('meeting_id', 'uuid', (c) => c.notNull().references('meeting.id'))
        .addColumn('registration_id', 'uuid', (c) => c.notNull().references('registration.id'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('open', 'accepted', 'declined', 'expired', 'withdrawn')`),
        )
        .addColumn('offered_at', 'timestamptz', (c) => c.notNull())
        .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
        .addColumn('closed_at', 'timestamptz')
        .execute();
      // One open offer per registration, whatever the code above it does.
      await db.schema
        .createIndex('waitlist_offer_one_open')
        .on('waitlist_offer')
        .column('registration_id')
        .unique()
        .where(sql.ref('status'), '=', 'open')
        .execute();
      await db.schema
        .createIndex('waitlist_offer_open_meeting')
        .on('waitlist_offer')
        .column('meeting_id')
        .where(sql.ref('status'), '=', 'open')
        .execute();
      await db.schema
        .createIndex('waitlist_offer_due')
        .on('waitlist_offer')
        .column('expires_at')
        .where(sql.ref('status'), '=', 'open')
        .execute();
    },
  },
  '0014_meeting_questions_version': {
    async up(db: Kysely<any>) {
      // Moves with every change of a meeting's questions: a registration checked against the questions of one
      // version is written only while the meeting still has it, as with the meeting's own version.
      await db.schema
        .alterTable('meeting')
        .addColumn('questions_version', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0015_offer_withdrawal': {
    async up(db: Kysely<any>) {
      // Cancelling a meeting now withdraws its open offers at once. Offers left open by cancellations before
      // are withdrawn as of their meeting's cancellation, so the sweep does not end their waitlist places.
      await sql`update waitlist_offer o set status = 'withdrawn', closed_at = coalesce(m.cancelled_at, now())
        from meeting m
        where m.id = o.meeting_id and m.status = 'cancelled' and o.status = 'open'`.execute(db);
      await sql`update meeting set seats_offered = 0
        where status = 'cancelled' and seats_offered <> 0`.execute(db);
    },
  },
};
