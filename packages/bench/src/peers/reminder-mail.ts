import type { SendMailOptions } from 'nodemailer';

/** A reminder mail as the notification service rendered it (a row of notification.email). */
export interface RenderedMail {
  recipient: string;
  subject: string;
  text_body: string | null;
  html_body: string | null;
  message_id: string;
  unsubscribe_url: string | null;
  /** A Date from pg; an ISO string once it went through a job payload. */
  created_at: Date | string;
}

/**
 * The one mapping from a rendered row to what nodemailer sends, shared by every baseline of the reminders row so
 * that the raw client and the graphile-worker peer put the very same bytes on the wire.
 */
export function toNodemailerMessage(m: RenderedMail, kind = 'reminder'): SendMailOptions {
  return {
    from: 'City Deals CoP <cop@citydeals.example.org>',
    to: m.recipient,
    subject: m.subject,
    text: m.text_body ?? undefined,
    html: m.html_body ?? undefined,
    messageId: m.message_id,
    date: new Date(m.created_at),
    headers: {
      ...(m.unsubscribe_url
        ? {
            'List-Unsubscribe': `<${m.unsubscribe_url}>`,
            'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
          }
        : {}),
      'X-CityDeals-Kind': kind,
    },
  };
}
