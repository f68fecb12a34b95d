import type { EmailKind, Language } from '@citydeals/contracts';

/**
 * The office's texts of a meeting, per language: an introduction above the meeting's details and practical
 * information below them. Plain text; a blank line starts a paragraph. Where and how they are used:
 * docs/mail-texts.md.
 */
export interface MailTexts {
  introduction: string;
  practical: string;
}

/** Long enough for a welcome and a route description; a mail is not the place for a programme. */
export const mailTextLimits = { introduction: 2000, practical: 4000 } as const satisfies Record<
  keyof MailTexts,
  number
>;

/**
 * The standard mails that carry the texts: the ones an attendee with a seat gets about the meeting itself.
 * A waitlist, cancellation or link mail is about the registration and stays as it is; an office message
 * is the office's own text already.
 */
export const mailTextKinds = [
  'registration_confirmed',
  'promoted',
  'reminder',
  'meeting_changed',
  'meeting_rescheduled',
] as const satisfies readonly EmailKind[];
export type MailTextKind = (typeof mailTextKinds)[number];

export function carriesMailTexts(kind: EmailKind): kind is MailTextKind {
  return (mailTextKinds as readonly EmailKind[]).includes(kind);
}

/** One way of writing a text, whatever the browser sent: `\n` line ends, no trailing blanks, trimmed. */
export function normaliseMailText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .trim();
}

/**
 * The texts a mail of this kind, in this language, shows: the meeting's texts of that language, nothing
 * for a kind that carries none or when both are empty. The other language's texts never stand in: a Dutch
 * welcome in an English mail reads as a mistake.
 */
export function mailTextsFor(
  kind: EmailKind,
  language: Language,
  texts: ReadonlyMap<Language, MailTexts> | undefined,
): MailTexts | null {
  if (!carriesMailTexts(kind)) return null;
  const found = texts?.get(language);
  if (!found || (found.introduction === '' && found.practical === '')) return null;
  return found;
}
