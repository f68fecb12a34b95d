import type { PruneTask } from '@citydeals/messaging';
import type { NotificationCutoffs } from './retention.rules.ts';

/**
 * The pruning statements of the notification tables (see PruneTask): `$1` is the cut-off, `$2` the batch
 * size. Mails in the queue are never touched; webhook messages still pending are never deleted.
 */
export function notificationPruneTasks(cutoffs: NotificationCutoffs): PruneTask[] {
  return [
    {
      name: 'mail_body',
      // email_body_kept_idx holds only mails that still have a body, so each batch starts at the oldest of
      // those instead of walking past every mail already reduced to its log line.
      sql: `update email set text_body = null, html_body = null, ics = null
        where ctid = any(array(select ctid from email
          where (text_body is not null or html_body is not null or ics is not null)
            and created_at < $1 and status <> 'queued'
          order by created_at limit $2 for update skip locked))`,
      cutoff: cutoffs.mailBody,
    },
    {
      name: 'webhook_message',
      // Per endpoint through (endpoint_id, created_at); the attempts go with their message (on delete cascade).
      sql: `delete from webhook_message where ctid = any(array(
        select m.ctid from webhook_endpoint e cross join lateral (
          select ctid from webhook_message m
          where m.endpoint_id = e.id and m.created_at < $1 and m.status <> 'pending'
          order by m.created_at limit $2 for update skip locked) m
        limit $2))`,
      cutoff: cutoffs.webhook,
    },
    {
      name: 'alert',
      // The log of alerts raised goes with their webhook messages; a cause's state (one row each) stays.
      sql: `delete from alert where ctid = any(array(select ctid from alert
          where raised_at < $1 order by raised_at limit $2 for update skip locked))`,
      cutoff: cutoffs.webhook,
    },
  ];
}
