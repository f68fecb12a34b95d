import type { Language } from '@citydeals/contracts';

const languages: readonly string[] = ['nl', 'en'] satisfies Language[];
const isLanguage = (value: string | null | undefined): value is Language =>
  value != null && languages.includes(value);

/** The language the attendee chose; the meeting's only when they chose none; Dutch when neither says. */
export function mailLanguage(
  recipientLanguage: string | null | undefined,
  meetingLanguage: string | null | undefined,
): Language {
  if (isLanguage(recipientLanguage)) return recipientLanguage;
  if (isLanguage(meetingLanguage)) return meetingLanguage;
  return 'nl';
}

export function messageIdFor(emailId: string, domain: string): string {
  return `<${emailId}@${domain}>`;
}

/** Delay before attempt `attempts + 1`, doubling from `baseMs` and capped at `maxMs`. */
export function retryDelayMs(attempts: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export type SendOutcome =
  | { kind: 'sent' }
  | { kind: 'transient'; smtpCode: number | null; error: string }
  | { kind: 'permanent'; smtpCode: number; error: string }
  /** No SMTP server to talk to: says nothing about this mail, only about the server. */
  | { kind: 'unreachable'; error: string };

/**
 * Failures of the connection rather than answers about a message: refused, reset, timed out, no DNS answer,
 * and 421 (the server closing the channel for everyone). nodemailer gives these its own codes.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SMTP 5xx is a final answer about this message; any other reply (4xx) may succeed later. Without a reply,
 * the server could not be reached at all: the mail is not at fault and must not pay for it with an attempt.
 */
export function classifySendError(error: unknown): Exclude<SendOutcome, { kind: 'sent' }> {
  const e = error as { responseCode?: unknown; response?: unknown; message?: unknown; code?: unknown };
  const code = typeof e?.responseCode === 'number' ? e.responseCode : null;
  const text =
    typeof e?.response === 'string' && e.response
      ? e.response
      : typeof e?.message === 'string'
        ? e.message
        : String(error);
  if (code !== null && code >= 500 && code < 600) return { kind: 'permanent', smtpCode: code, error: text };
  if (code === 421 || (code === null && typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code))) {
    return { kind: 'unreachable', error: text };
  }
  return { kind: 'transient', smtpCode: code, error: text };
}

export type AttemptResult =
  | { status: 'sent' }
  | { status: 'queued'; nextAttemptInMs: number }
  | { status: 'failed'; reason: 'rejected' | 'retries_exhausted'; suppress: boolean };

/** The mail's next state after an attempt; `attempts` counts the attempt just made. */
export function afterAttempt(
  outcome: Exclude<SendOutcome, { kind: 'unreachable' }>,
  attempts: number,
  policy: { maxAttempts: number; baseMs: number; maxMs: number },
): AttemptResult {
  if (outcome.kind === 'sent') return { status: 'sent' };
  if (outcome.kind === 'permanent') return { status: 'failed', reason: 'rejected', suppress: true };
  if (attempts >= policy.maxAttempts)
    return { status: 'failed', reason: 'retries_exhausted', suppress: false };
  return { status: 'queued', nextAttemptInMs: retryDelayMs(attempts, policy.baseMs, policy.maxMs) };
}

/** Error texts go into events and the log, which must outlive an erased address. */
export function withoutAddress(text: string, address: string | null): string {
  const cleaned = address ? text.split(address).join('<recipient>') : text;
  return (cleaned.replace(/[^\s<>@]+@[^\s<>@]+\.[A-Za-z]{2,}/g, '<address>') || 'unknown error').slice(
    0,
    1000,
  );
}

/**
 * Whether a leased mail goes on the wire: past its expiry (a reminder after the meeting began) it has lost
 * its point, and without an address (erased while it was leased) there is no one to send it to.
 */
export function beforeSending(
  mail: { expiresAt: Date | null; recipient: string | null },
  now: Date,
): 'send' | 'expired' | 'cancelled' {
  if (mail.expiresAt && now.getTime() >= mail.expiresAt.getTime()) return 'expired';
  if (!mail.recipient) return 'cancelled';
  return 'send';
}

/**
 * Whether a leased mail may still go on the wire. Past the middle of its lease it may not: another sender
 * can take it once the lease ends, and a send that starts late could still be on the wire then — the same
 * mail sent twice without any crash. Left alone, it is sent once by whoever leases it next.
 */
export function leaseAllowsSending(leasedUntil: Date | null, leaseMs: number, now: Date): boolean {
  if (!leasedUntil) return false;
  return now.getTime() < leasedUntil.getTime() - leaseMs / 2;
}

export type Settlement =
  | { status: 'expired' }
  | { status: 'cancelled' }
  | { status: 'sent'; sentAt: Date }
  | { status: 'queued'; nextAttemptAt: Date; error: string; smtpCode: number | null }
  /**
   * Not tried after all (no server, or held back for its lease): the attempt is given back and the mail
   * keeps its place in the queue, due again at once.
   */
  | { status: 'waiting'; dueAt: Date; error: string | null }
  | {
      status: 'failed';
      reason: 'rejected' | 'retries_exhausted';
      suppress: boolean;
      error: string;
      smtpCode: number | null;
      failedAt: Date;
    };

/**
 * What to record for a leased mail once its attempt is over; `attempts` already counts this attempt (the
 * lease counted it). Error texts lose the address before they reach the log or an event. `now` is the
 * schedule's clock (the next attempt); `stampedAt` the real time recorded as sent or failed.
 */
export function settleAttempt(
  result: SendOutcome | 'expired' | 'cancelled' | 'held',
  mail: { attempts: number; recipient: string | null; dueAt: Date },
  now: Date,
  policy: { maxAttempts: number; baseMs: number; maxMs: number },
  stampedAt: Date = now,
): Settlement {
  if (result === 'expired' || result === 'cancelled') return { status: result };
  if (result === 'held') return { status: 'waiting', dueAt: mail.dueAt, error: null };
  if (result.kind === 'sent') return { status: 'sent', sentAt: stampedAt };
  if (result.kind === 'unreachable') {
    return { status: 'waiting', dueAt: mail.dueAt, error: withoutAddress(result.error, mail.recipient) };
  }
  const next = afterAttempt(result, mail.attempts, policy);
  if (next.status === 'sent') return { status: 'sent', sentAt: stampedAt };
  const error = withoutAddress(result.error, mail.recipient);
  if (next.status === 'queued') {
    return {
      status: 'queued',
      nextAttemptAt: new Date(now.getTime() + next.nextAttemptInMs),
      error,
      smtpCode: result.smtpCode,
    };
  }
  return {
    status: 'failed',
    reason: next.reason,
    suppress: next.suppress && Boolean(mail.recipient),
    error,
    smtpCode: result.smtpCode,
    failedAt: stampedAt,
  };
}
