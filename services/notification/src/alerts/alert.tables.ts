/** The alert tables of the notification schema (see db/alerts.migrations.ts). */
export interface AlertTables {
  alert_cause: {
    cause: string;
    kind: string;
    last_raised_at: Date | null;
    held_back: number;
  };
  alert: {
    id: string;
    cause: string;
    kind: string;
    raised_at: Date;
    occurrences: number;
    payload: unknown;
    email_id: string | null;
    webhook_messages: number;
  };
}
