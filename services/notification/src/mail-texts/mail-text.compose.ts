import type { Transaction } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ComposeInput } from '../email/email.compose.ts';
import { mailTextsOfMeetings } from './mail-text.repository.ts';
import { carriesMailTexts } from './mail-text.rules.ts';

/**
 * The mails about to be composed, each with its meeting's office texts as they are in this transaction:
 * a mail is composed once, when it is queued, and sent as composed. One read for the whole batch, none
 * when no mail of the batch carries texts.
 */
export async function withMailTexts(
  trx: Transaction<Database>,
  inputs: readonly ComposeInput[],
): Promise<ComposeInput[]> {
  const meetingIds = inputs.filter((input) => carriesMailTexts(input.kind)).map((input) => input.meeting.id);
  const texts = await mailTextsOfMeetings(trx, meetingIds);
  return inputs.map((input) => ({ ...input, mailTexts: texts.get(input.meeting.id) }));
}
