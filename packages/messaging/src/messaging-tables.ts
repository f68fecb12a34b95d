import type { ColumnType, Generated } from 'kysely';

/** Table types of the messaging tables; a service's DB interface extends this. */
export interface MessagingTables {
  outbox: OutboxTable;
  inbox: InboxTable;
  dead_letter: DeadLetterTable;
}

export interface OutboxTable {
  id: Generated<number>;
  event_id: string;
  subject: string;
  payload: ColumnType<unknown, string, string>;
  created_at: Generated<Date>;
  published_at: Date | null;
  /** Generated from the payload's CloudEvents `traceparent` extension (tracing on). */
  traceparent: ColumnType<string | null, never, never>;
  /** Generated from the payload's `requestid` extension. */
  request_id: ColumnType<string | null, never, never>;
}

export interface InboxTable {
  consumer: string;
  event_id: string;
  event_type: string;
  processed_at: Generated<Date>;
}

export interface DeadLetterTable {
  id: Generated<number>;
  consumer: string;
  subject: string;
  stream_sequence: number | null;
  event_id: string | null;
  event_type: string | null;
  payload: string;
  error: string;
  deliveries: number;
  created_at: Generated<Date>;
  resolved_at: Date | null;
  resolution: string | null;
}
