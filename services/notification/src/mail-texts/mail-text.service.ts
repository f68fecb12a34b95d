import type { Language } from '@citydeals/contracts';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { composeEmail } from '../email/email.compose.ts';
import type { EmailContext } from '../email/email.context.ts';
import type { RenderedMail } from '../email/email.templates.ts';
import { findMeetings, type MeetingRow } from '../read-models/meeting.repository.ts';
import type { RecipientRow } from '../read-models/recipient.repository.ts';
import {
  listMailTexts,
  lockMeetingForTexts,
  mailTextsOfMeetings,
  replaceMailTexts,
} from './mail-text.repository.ts';
import type { MailTextKind, MailTexts } from './mail-text.rules.ts';

/** Who changed the texts: the person behind the console's staff token, or an API key. */
export interface Editor {
  id: string;
  name: string;
}

export interface StoredMailTexts extends MailTexts {
  language: Language;
  updatedAt: Date;
  updatedBy: Editor;
}

/**
 * The meeting as this service knows it, with its texts (one entry per language that has any); null when
 * the meeting is not known here.
 */
export async function getMailTexts(
  db: Kysely<Database>,
  meetingId: string,
): Promise<{ meeting: MeetingRow; texts: StoredMailTexts[] } | null> {
  const [meeting] = await findMeetings(db, [meetingId]);
  if (!meeting) return null;
  const rows = await listMailTexts(db, meetingId);
  const texts = rows.map((row) => ({
    language: row.language as Language,
    introduction: row.introduction,
    practical: row.practical,
    updatedAt: new Date(row.updated_at),
    updatedBy: { id: row.updated_by_id, name: row.updated_by_name },
  }));
  return { meeting, texts };
}

/**
 * Replaces the meeting's texts with these (a language left out, or with both texts empty, has none).
 * Mails queued from the commit on carry them; mails already queued keep the text they were composed with.
 */
export async function saveMailTexts(
  db: Kysely<Database>,
  meetingId: string,
  texts: readonly (MailTexts & { language: Language })[],
  editor: Editor,
  now: Date,
): Promise<{ meeting: MeetingRow; texts: StoredMailTexts[] } | null> {
  const saved = await db.transaction().execute(async (trx) => {
    // Two saves of one meeting at once: the second waits here and then replaces the first's rows.
    if (!(await lockMeetingForTexts(trx, meetingId))) return false;
    const rows = texts
      .filter((t) => t.introduction !== '' || t.practical !== '')
      .map((t) => ({
        language: t.language,
        introduction: t.introduction,
        practical: t.practical,
        updated_at: now,
        updated_by_id: editor.id,
        updated_by_name: editor.name,
      }));
    await replaceMailTexts(trx, meetingId, rows);
    return true;
  });
  return saved ? getMailTexts(db, meetingId) : null;
}

export interface MailPreviewInput {
  kind: MailTextKind;
  language: Language;
  /** Texts not saved yet; without them, the saved ones. */
  texts?: MailTexts | undefined;
  name?: string | undefined;
}

/** Where an attendee's own link stands in a preview. */
export const PREVIEW_MANAGE_URL = 'https://…/aanmelding/beheren/…';

/**
 * The mail an attendee of the meeting would get, composed exactly as the mail queue composes it, for a
 * sample attendee: placeholder personal links, and for the kinds that need them the meeting's first
 * reminder offset, a venue change, or a previous date a week earlier. Writes nothing.
 */
export async function previewMail(
  db: Kysely<Database>,
  ctx: EmailContext,
  meetingId: string,
  input: MailPreviewInput,
): Promise<RenderedMail | null> {
  const [meeting] = await findMeetings(db, [meetingId]);
  if (!meeting) return null;
  const stored = (await mailTextsOfMeetings(db, [meetingId])).get(meetingId);
  const mailTexts = input.texts ? new Map([[input.language, input.texts]]) : stored;
  const mail = composeEmail(ctx, {
    kind: input.kind,
    meeting,
    recipient: sampleRecipient(meeting, input),
    now: ctx.clock.now(),
    dedupeKey: 'preview',
    language: input.language,
    mailTexts,
    ...sampleOf(input.kind, meeting, ctx),
  });
  return { subject: mail.subject, html: mail.html_body ?? '', text: mail.text_body ?? '' };
}

function sampleRecipient(meeting: MeetingRow, input: MailPreviewInput): RecipientRow {
  return {
    registration_id: '00000000-0000-4000-8000-000000000000',
    meeting_id: meeting.id,
    version: 1,
    status: 'confirmed',
    name: input.name ?? (input.language === 'nl' ? 'Voornaam Achternaam' : 'First Last'),
    email: 'preview@example.org',
    language: input.language,
    position: null,
    manage_url: PREVIEW_MANAGE_URL,
    deal_id: null,
    erased: false,
    updated_at: new Date(0),
  };
}

/** What each kind's mail is about, as the events that cause it would say. */
function sampleOf(kind: MailTextKind, meeting: MeetingRow, ctx: EmailContext) {
  const week = 7 * 86_400_000;
  switch (kind) {
    case 'registration_confirmed':
    case 'promoted':
      return { calendar: 'REQUEST' as const };
    case 'reminder':
      return {
        reminderOffset: meeting.reminder_offsets[0] ?? 'P1D',
        unsubscribeUrl: `${ctx.publicBaseUrl}/unsubscribe/…`,
      };
    case 'meeting_changed':
      return { calendar: 'REQUEST' as const, extra: { changes: ['venue' as const] } };
    case 'meeting_rescheduled':
      return {
        calendar: 'REQUEST' as const,
        extra: {
          previous: {
            startsAt: new Date(new Date(meeting.starts_at).getTime() - week),
            endsAt: new Date(new Date(meeting.ends_at).getTime() - week),
          },
        },
      };
  }
}
