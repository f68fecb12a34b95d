import type { Language } from '@citydeals/contracts';

/** Dutch unless the registration or the meeting asks for English. */
export function mailLanguage(recipientLanguage: string, meetingLanguage: string): Language {
  return recipientLanguage === 'en' || meetingLanguage === 'en' ? 'en' : 'nl';
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
  | { kind: 'permanent'; smtpCode: number; error: string };

/**
 * SMTP 5xx is a final answer about this message; 4xx and anything without a reply code (connection refused,
 * timeout) may succeed later.
 */
export function classifySendError(error: unknown): Exclude<SendOutcome, { kind: 'sent' }> {
  const e = error as { responseCode?: unknown; response?: unknown; message?: unknown };
  const code = typeof e?.responseCode === 'number' ? e.responseCode : null;
  const text =
    typeof e?.response === 'string' && e.response
      ? e.response
      : typeof e?.message === 'string'
        ? e.message
        : String(error);
  if (code !== null && code >= 500 && code < 600) return { kind: 'permanent', smtpCode: code, error: text };
  return { kind: 'transient', smtpCode: code, error: text };
}

export type AttemptResult =
  | { status: 'sent' }
  | { status: 'queued'; nextAttemptInMs: number }
  | { status: 'failed'; reason: 'rejected' | 'retries_exhausted'; suppress: boolean };

/** The mail's next state after an attempt; `attempts` counts the attempt just made. */
export function afterAttempt(
  outcome: SendOutcome,
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
