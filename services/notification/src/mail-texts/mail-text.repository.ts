import type { Language } from '@citydeals/contracts';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { MailTexts } from './mail-text.rules.ts';

export type MailTextRow = Selectable<Database['mail_text']>;

/** The texts of these meetings, by meeting and language; a meeting without texts is not in the map. */
export async function mailTextsOfMeetings(
  db: Kysely<Database>,
  meetingIds: readonly string[],
): Promise<Map<string, Map<Language, MailTexts>>> {
  const byMeeting = new Map<string, Map<Language, MailTexts>>();
  if (meetingIds.length === 0) return byMeeting;
  const rows = await db
    .selectFrom('mail_text')
    .select(['meeting_id', 'language', 'introduction', 'practical'])
    .where('meeting_id', 'in', [...new Set(meetingIds)])
    .execute();
  for (const row of rows) {
    const texts = byMeeting.get(row.meeting_id) ?? new Map<Language, MailTexts>();
    byMeeting.set(row.meeting_id, texts);
    texts.set(row.language as Language, { introduction: row.introduction, practical: row.practical });
  }
  return byMeeting;
}

export function listMailTexts(db: Kysely<Database>, meetingId: string): Promise<MailTextRow[]> {
  return db
    .selectFrom('mail_text')
    .selectAll()
    .where('meeting_id', '=', meetingId)
    .orderBy('language')
    .execute();
}

/**
 * Holds the meeting's row against another save of its texts until the transaction ends (consumers only
 * share-lock it, briefly); false when the meeting is not known here.
 */
export async function lockMeetingForTexts(trx: Transaction<Database>, meetingId: string): Promise<boolean> {
  const row = await trx
    .selectFrom('meeting')
    .select('id')
    .where('id', '=', meetingId)
    .forNoKeyUpdate()
    .executeTakeFirst();
  return row !== undefined;
}

/** The meeting's texts become exactly these: a language left out has none afterwards. */
export async function replaceMailTexts(
  trx: Transaction<Database>,
  meetingId: string,
  rows: readonly Omit<MailTextRow, 'meeting_id'>[],
): Promise<void> {
  await trx.deleteFrom('mail_text').where('meeting_id', '=', meetingId).execute();
  if (rows.length > 0) {
    await trx
      .insertInto('mail_text')
      .values(rows.map((row) => ({ ...row, meeting_id: meetingId })))
      .execute();
  }
}
