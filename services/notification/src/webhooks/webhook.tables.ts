import type { ColumnType, Generated } from 'kysely';

export type DisabledReason = 'manual' | 'gone' | 'failing';
export type MessageStatus = 'pending' | 'delivered' | 'failed';

/** The webhook tables of the notification schema (see db/webhooks.migrations.ts). */
export interface WebhookTables {
  webhook_endpoint: {
    id: string;
    url: string;
    description: Generated<string>;
    event_types: string[];
    deal_ids: string[] | null;
    enabled: Generated<boolean>;
    disabled_reason: DisabledReason | null;
    disabled_at: Date | null;
    /** Sealed by SecretCipher, never the raw secret when WEBHOOK_SECRET_KEY is set. */
    secret: string;
    previous_secret: string | null;
    previous_secret_expires_at: Date | null;
    failing_since: Date | null;
    version: Generated<number>;
    created_by: string | null;
    created_at: Generated<Date>;
    updated_at: Generated<Date>;
  };
  webhook_message: {
    id: string;
    endpoint_id: string;
    webhook_id: string;
    event_id: string;
    event_type: string;
    deal_id: string | null;
    deal_version: number | null;
    payload: string;
    status: Generated<MessageStatus>;
    attempts: Generated<number>;
    /** `attempts` when the message was last queued; the retry schedule counts from here. */
    round_start: Generated<number>;
    next_attempt_at: Date;
    lease_token: string | null;
    lease_until: Date | null;
    last_status_code: number | null;
    last_error: string | null;
    failure_reason: string | null;
    delivered_at: Date | null;
    failed_at: Date | null;
    version: Generated<number>;
    created_at: Generated<Date>;
    /** W3C traceparent of the operation that queued the message; set only with tracing on. */
    traceparent: ColumnType<string | null, string | null | undefined, string | null>;
  };
  webhook_attempt: {
    id: Generated<number>;
    message_id: string;
    attempt: number;
    started_at: Date;
    duration_ms: number;
    webhook_timestamp: number;
    status_code: number | null;
    error: string | null;
    response_body: string | null;
    outcome: 'delivered' | 'failed';
  };
}
