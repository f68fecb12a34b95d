import type { MailKind } from '@citydeals/contracts';
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export type ReminderStatus = 'pending' | 'queued' | 'skipped' | 'cancelled' | 'expired' | 'suppressed';
export type EmailStatus = 'queued' | 'sent' | 'failed' | 'expired' | 'cancelled';

export interface EmailTables {
  meeting: {
    id: string;
    version: number;
    title: string;
    starts_at: Timestamp;
    ends_at: Timestamp;
    time_zone: string;
    venue_name: string;
    venue_address: string;
    online_url: string | null;
    language: string;
    reminder_offsets: string[];
    status: string;
    ics_sequence: number;
    cancel_reason: string | null;
    updated_at: DefaultedTimestamp;
  };
  recipient: {
    registration_id: string;
    meeting_id: string;
    version: number;
    status: string;
    name: string | null;
    email: string | null;
    language: string;
    position: number | null;
    manage_url: string | null;
    /** The deal the attendee comes for (db/deal-news.migrations.ts); null when none or not known. */
    deal_id: ColumnType<string | null, string | null | undefined, string | null>;
    erased: Generated<boolean>;
    updated_at: DefaultedTimestamp;
  };
  reminder: {
    id: Generated<number>;
    registration_id: string;
    meeting_id: string;
    reminder_offset: string;
    due_at: Timestamp;
    status: ReminderStatus;
    email_id: string | null;
    updated_at: DefaultedTimestamp;
  };
  email: {
    id: string;
    kind: MailKind;
    meeting_id: string | null;
    registration_id: string | null;
    reminder_offset: string | null;
    recipient: string | null;
    language: string;
    subject: string;
    text_body: string | null;
    html_body: string | null;
    ics: string | null;
    ics_method: string | null;
    unsubscribe_url: string | null;
    message_id: string;
    dedupe_key: string | null;
    status: EmailStatus;
    version: Generated<number>;
    attempts: Generated<number>;
    next_attempt_at: DefaultedTimestamp;
    /** Set while a sender holds the mail (SMTP in flight); null otherwise. */
    leased_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
    /** W3C traceparent of the operation that queued the mail; set only with tracing on. */
    traceparent: ColumnType<string | null, string | null | undefined, string | null>;
    expires_at: Timestamp | null;
    last_error: string | null;
    smtp_code: number | null;
    created_at: Timestamp;
    updated_at: DefaultedTimestamp;
    sent_at: Timestamp | null;
    failed_at: Timestamp | null;
  };
  suppression: {
    address_hash: string;
    reason: string;
    created_at: DefaultedTimestamp;
  };
  email_setting: {
    key: string;
    value: string;
  };
}
