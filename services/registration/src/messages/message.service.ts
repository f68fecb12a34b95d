import { attendeeMessageRequested } from '@citydeals/contracts';
import { enqueueEvents } from '@citydeals/messaging';
import { problems } from '@citydeals/service-kit';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import {
  dueMessageIds,
  findMessage,
  insertMessage,
  listMessageRecipients,
  listMessages,
  lockUnsentMessage,
  type MessageRow,
  markMessageSent,
} from './message.repository.ts';
import { type MessageStatus, type MessageTexts, sendTime, textFor } from './message.rules.ts';

export interface MessageInput {
  /** Chosen by the caller so that a retried request sends nothing twice. */
  id?: string | undefined;
  statuses: MessageStatus[];
  dealIds?: string[] | undefined;
  roles?: string[] | undefined;
  texts: MessageTexts;
  sendAt?: Date | undefined;
}

export interface MessageView {
  id: string;
  meetingId: string;
  statuses: MessageStatus[];
  dealIds: string[] | null;
  roles: string[] | null;
  texts: MessageTexts;
  sendAt: string;
  createdBy: string;
  createdAt: string;
  sentAt: string | null;
  recipients: number | null;
}

function toView(row: MessageRow): MessageView {
  return {
    id: row.id,
    meetingId: row.meeting_id,
    statuses: row.statuses,
    dealIds: row.deal_ids,
    roles: row.roles,
    texts: row.texts,
    sendAt: row.send_at.toISOString(),
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    sentAt: row.sent_at?.toISOString() ?? null,
    recipients: row.recipients,
  };
}

/**
 * Stores a message and, unless it is scheduled, sends it in the same transaction: one
 * registration.attendee.message_requested event per recipient, which the notification service mails. A
 * request repeated with the same id returns the stored message and sends nothing again.
 */
export async function createMessage(
  ctx: ServiceContext,
  meetingId: string,
  input: MessageInput,
  actor: string,
): Promise<{ message: MessageView; created: boolean }> {
  const id = input.id ?? ctx.newId();
  return ctx.db.transaction().execute(async (trx) => {
    const meeting = await trx
      .selectFrom('meeting')
      .select('id')
      .where('id', '=', meetingId)
      .executeTakeFirst();
    if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
    const existing = await findMessage(trx, id);
    if (existing) {
      if (existing.meeting_id !== meetingId)
        throw problems.conflict(`message ${id} belongs to another meeting`);
      return { message: toView(existing), created: false };
    }
    const now = ctx.clock.now();
    const when = sendTime(input.sendAt, now);
    await insertMessage(trx, {
      id,
      meeting_id: meetingId,
      statuses: [...new Set(input.statuses)],
      deal_ids: input.dealIds?.length ? [...new Set(input.dealIds)] : null,
      roles: input.roles?.length ? [...new Set(input.roles)] : null,
      texts: JSON.stringify(input.texts),
      send_at: when.sendAt,
      created_by: actor,
      created_at: now,
    });
    if (when.now) await sendLocked(ctx, trx, id);
    const stored = await findMessage(trx, id);
    return { message: toView(stored!), created: true };
  });
}

/** Publishes one event per recipient of a message that has not gone out, and marks it sent. */
async function sendLocked(ctx: ServiceContext, trx: Transaction<Database>, id: string): Promise<boolean> {
  const message = await lockUnsentMessage(trx, id);
  if (!message) return false;
  const now = ctx.clock.now();
  const recipients = await listMessageRecipients(trx, message);
  // One statement for all recipients: a message to a few hundred people stays one short transaction.
  await enqueueEvents(
    trx,
    attendeeMessageRequested,
    recipients.map((recipient) => {
      const { language, text } = textFor(message.texts, recipient.language);
      return {
        id: ctx.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: recipient.id,
        data: {
          messageId: message.id,
          version: 1,
          registrationId: recipient.id,
          meetingId: message.meeting_id,
          language,
          subject: text.subject,
          body: text.body,
        },
      };
    }),
  );
  await markMessageSent(trx, id, now, recipients.length);
  return true;
}

/** Sends the scheduled messages whose time has come; returns how many went out. */
export async function sweepMessages(ctx: ServiceContext, limit = 20): Promise<number> {
  let sent = 0;
  for (const id of await dueMessageIds(ctx.db, ctx.clock.now(), limit)) {
    if (await ctx.db.transaction().execute((trx) => sendLocked(ctx, trx, id))) sent += 1;
  }
  return sent;
}

export async function meetingMessages(ctx: ServiceContext, meetingId: string): Promise<MessageView[]> {
  const meeting = await ctx.db
    .selectFrom('meeting')
    .select('id')
    .where('id', '=', meetingId)
    .executeTakeFirst();
  if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
  return (await listMessages(ctx.db, meetingId)).map(toView);
}
