import type { Language } from '@citydeals/contracts';

/** Who a message can go to: people with a seat or a place on the waitlist. */
export const messageStatuses = ['confirmed', 'waitlisted', 'checked_in'] as const;
export type MessageStatus = (typeof messageStatuses)[number];

export interface MessageText {
  subject: string;
  body: string;
}

export type MessageTexts = Partial<Record<Language, MessageText>>;

/**
 * The text an attendee gets: in their own language when the office wrote it, otherwise the one the office
 * did write (the office may write only Dutch, or only English).
 */
export function textFor(texts: MessageTexts, language: Language): { language: Language; text: MessageText } {
  const own = texts[language];
  if (own) return { language, text: own };
  const other: Language = language === 'nl' ? 'en' : 'nl';
  const fallback = texts[other];
  if (!fallback) throw new Error('a message has a text in at least one language');
  return { language: other, text: fallback };
}

/** A message without a time, or with one that has come, goes out at once; a later one waits for its time. */
export function sendTime(requested: Date | undefined, now: Date): { sendAt: Date; now: boolean } {
  if (!requested || requested.getTime() <= now.getTime()) return { sendAt: now, now: true };
  return { sendAt: requested, now: false };
}
