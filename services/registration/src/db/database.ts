import type { ServiceTables } from '@citydeals/service-kit';
import type { ColumnType, Generated } from 'kysely';

export interface AgendaItemColumn {
  time: string;
  title: string;
  kind: string;
}

export interface MeetingTable {
  id: string;
  version: number;
  status: 'draft' | 'published' | 'cancelled';
  title: string;
  slug: string;
  description: string | null;
  starts_at: Date;
  ends_at: Date;
  time_zone: string;
  venue_name: string;
  venue_address: string;
  online_url: string | null;
  capacity: number;
  registration_opens_at: Date | null;
  registration_closes_at: Date | null;
  language: 'nl' | 'en';
  agenda: ColumnType<AgendaItemColumn[], string, string>;
  reminder_offsets: string[];
  ics_sequence: number;
  cancel_reason: string | null;
  /** Set once on first publication; a meeting that was never public stays out of the feed. */
  published_at: Date | null;
  cancelled_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Date;
  /** Registrations holding a seat (confirmed, checked in, no-show); changed only under the meeting lock. */
  seats_taken: Generated<number>;
  /** Registrations waiting; changed only under the meeting lock. */
  waitlist_length: Generated<number>;
  /** Public registrations wait for their address to be confirmed before the seat decision. */
  address_confirmation: Generated<boolean>;
  /** How a free seat reaches the waitlist (offers/). */
  waitlist_promotion: Generated<'automatic' | 'offer'>;
  /** The longest an offer stays open; shorter close to the meeting (offer.rules.ts). */
  offer_hours: Generated<number>;
  /** Seats held by open offers (waitlist_offer); changed only under the meeting lock. */
  seats_offered: Generated<number>;
  /** Moves with every change of the meeting's questions (questions/). */
  questions_version: Generated<number>;
}

export type RegistrationStatusColumn = 'confirmed' | 'waitlisted' | 'cancelled' | 'checked_in' | 'no_show';

export interface RegistrationTable {
  id: string;
  meeting_id: string;
  /** Arrival order; the waitlist is served lowest first. */
  seq: Generated<number>;
  version: number;
  status: RegistrationStatusColumn;
  name: string | null;
  email: string | null;
  email_key: string | null;
  organisation: string | null;
  role: string;
  deal_id: string | null;
  dietary_needs: string | null;
  accessibility_needs: string | null;
  consent_photo: boolean;
  consent_attendee_list: boolean;
  language: 'nl' | 'en';
  token_hash: string | null;
  created_at: Date;
  updated_at: Date;
  confirmed_at: Date | null;
  cancelled_at: Date | null;
  cancelled_by: 'attendee' | 'admin' | 'system' | null;
  checked_in_at: Date | null;
  no_show_at: Date | null;
  erased_at: Date | null;
}

export interface DealTable {
  id: string;
  name: string;
  slug: string;
  kind: string;
  phase: string;
  version: number;
  updated_at: Date;
}

/** Every table this service may touch: its own schema and nothing else. */
/** A fixed-window counter (see budget.repository.ts). */
export interface RequestBudgetTable {
  key: string;
  window_start: Date;
  used: number;
}

/**
 * A registration request waiting for its address to be confirmed (address-confirmation/). `input` holds the
 * registration form as given; it and `email_key` are cleared once the request is confirmed.
 */
export interface AddressConfirmationTable {
  id: string;
  meeting_id: string;
  version: number;
  token_hash: string;
  email_key: string | null;
  /** Parsed again with the registration body's schema when it is used. */
  input: ColumnType<unknown, string | null, string | null>;
  created_at: Date;
  expires_at: Date;
  confirmed_at: Date | null;
}

/** Feedback survey after a meeting (survey/): one round per meeting, one link per attendee, the answers. */
export interface SurveyRoundTable {
  meeting_id: string;
  sent_at: Date;
}

export interface SurveyInvitationTable {
  registration_id: string;
  meeting_id: string;
  token_hash: string;
  expires_at: Date;
  answered: Generated<boolean>;
}

export interface SurveyAnswerTable {
  id: string;
  meeting_id: string;
  /** Only when the person chose to give their name; erased with them. */
  registration_id: string | null;
  respondent_name: string | null;
  language: 'nl' | 'en';
  rating: number;
  most_useful: string | null;
  suggestions: string | null;
  answered_on: ColumnType<string, string, string>;
}

/** One admin change and who made it (staff-actions/). */
export interface StaffActionTable {
  id: Generated<string>;
  at: Date;
  actor_type: 'user' | 'api_key' | 'system';
  actor_id: string;
  actor_name: string | null;
  action: string;
  meeting_id: string | null;
  registration_id: string | null;
  status: number;
}

/** One event of the public meeting feed (see feed/meeting-feed.repository.ts). */
export interface MeetingFeedTable {
  position: Generated<string>;
  meeting_id: string;
  version: number;
  event_id: string;
  event: ColumnType<unknown, string, string>;
  occurred_at: Date;
}

/** What the public meeting feed last said about a meeting. */
export interface MeetingFeedStateTable {
  meeting_id: string;
  version: number;
  /** The meeting row's version when last compared: a different one means an edit to look at. */
  meeting_version: number;
  status: 'published' | 'cancelled';
  view: ColumnType<unknown, string, string>;
  seats_announced_at: Date | null;
  attendance: ColumnType<unknown, string | null, string | null>;
  attendance_announced_at: Date | null;
}

/** A session (workshop) within a meeting, with its own places and waitlist (sessions/). */
export interface MeetingSessionTable {
  id: string;
  meeting_id: string;
  title: string;
  description: string | null;
  starts_at: Date;
  ends_at: Date;
  capacity: number;
  places_taken: Generated<number>;
  waitlist_length: Generated<number>;
  created_at: Date;
  updated_at: Date;
}

/** `pending`: chosen while the registration waits for a meeting seat; it holds nothing yet. */
export type SessionChoiceStatusColumn = 'pending' | 'placed' | 'waitlisted';

/** A registration's choice of a session (sessions/). */
export interface SessionChoiceTable {
  registration_id: string;
  session_id: string;
  status: SessionChoiceStatusColumn;
  /** Order of the session's waitlist, lowest served first (bigint, read as a string). */
  seq: Generated<string>;
  chosen_at: Date;
}

/** A message of the office to a meeting's attendees (messages/). */
export interface MessageTextColumn {
  subject: string;
  body: string;
}

export interface AttendeeMessageTable {
  id: string;
  meeting_id: string;
  statuses: ('confirmed' | 'waitlisted' | 'checked_in')[];
  deal_ids: string[] | null;
  roles: string[] | null;
  texts: ColumnType<Partial<Record<'nl' | 'en', MessageTextColumn>>, string, string>;
  send_at: Date;
  created_by: string;
  created_at: Date;
  sent_at: Date | null;
  recipients: number | null;
}

/** A question on a meeting's registration form (questions/). */
export type QuestionKindColumn = 'short_text' | 'long_text' | 'one_choice' | 'several_choices' | 'yes_no';
export interface QuestionLabelColumn {
  nl: string;
  en: string;
}
export interface MeetingQuestionTable {
  id: string;
  meeting_id: string;
  position: number;
  kind: QuestionKindColumn;
  required: boolean;
  label: ColumnType<QuestionLabelColumn, string, string>;
  choices: ColumnType<{ id: string; label: QuestionLabelColumn }[], string, string>;
  created_at: Date;
  updated_at: Date;
  removed_at: Date | null;
}

/** One person's answer to one question: text, a choice id, choice ids, or yes/no. */
export interface RegistrationAnswerTable {
  registration_id: string;
  question_id: string;
  value: ColumnType<string | string[] | boolean, string, string>;
}

/** A seat held for one waitlisted registration until it is accepted, declined or expires (offers/). */
export interface WaitlistOfferTable {
  id: string;
  meeting_id: string;
  registration_id: string;
  token_hash: string;
  status: 'open' | 'accepted' | 'declined' | 'expired' | 'withdrawn';
  offered_at: Date;
  expires_at: Date;
  closed_at: Date | null;
}

export interface Database extends ServiceTables {
  meeting_question: MeetingQuestionTable;
  registration_answer: RegistrationAnswerTable;
  waitlist_offer: WaitlistOfferTable;
  attendee_message: AttendeeMessageTable;
  request_budget: RequestBudgetTable;
  survey_round: SurveyRoundTable;
  survey_invitation: SurveyInvitationTable;
  survey_answer: SurveyAnswerTable;
  address_confirmation: AddressConfirmationTable;
  staff_action: StaffActionTable;
  meeting: MeetingTable;
  registration: RegistrationTable;
  deals: DealTable;
  meeting_feed: MeetingFeedTable;
  meeting_feed_state: MeetingFeedStateTable;
  meeting_session: MeetingSessionTable;
  session_choice: SessionChoiceTable;
}
