import { inSpan, remoteContext } from '@citydeals/messaging';
import { SpanKind } from '@opentelemetry/api';
import type { EmailRow } from './email.repository.ts';

/**
 * An SMTP client span for a mail queued in a trace, child of the span that queued it (the consumer applying
 * the event), with the server's answer: its reply code and text, or the error's.
 */
export function traceSmtpSend(
  mail: EmailRow,
  traceparent: string,
  send: () => Promise<string | undefined>,
): Promise<string | undefined> {
  return inSpan(
    'smtp send',
    {
      kind: SpanKind.CLIENT,
      parent: remoteContext(traceparent),
      attributes: { 'email.id': mail.id, 'email.kind': mail.kind, 'email.attempt': mail.attempts },
    },
    async (span) => {
      try {
        const response = await send();
        if (response) {
          span.setAttribute('smtp.response', response);
          span.setAttribute('smtp.response_code', Number.parseInt(response, 10));
        }
        return response;
      } catch (err) {
        const { response, responseCode } = err as { response?: unknown; responseCode?: unknown };
        if (typeof response === 'string') span.setAttribute('smtp.response', response);
        if (typeof responseCode === 'number') span.setAttribute('smtp.response_code', responseCode);
        throw err;
      }
    },
  );
}
