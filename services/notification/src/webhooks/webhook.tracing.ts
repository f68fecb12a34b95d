import { formatTraceparent, inSpan, remoteContext } from '@citydeals/messaging';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ClaimedMessage } from './delivery.repository.ts';
import type { Send, SendRequest, SendResult } from './delivery.sender.ts';

/**
 * An HTTP client span for a webhook queued in a trace, child of the span that queued it (the consumer
 * applying the event), with the receiver's status code or the error. The request carries the span's
 * `traceparent`, so a receiver that traces continues the same trace.
 */
export function traceWebhookSend(
  message: ClaimedMessage,
  traceparent: string,
  request: SendRequest,
  send: Send,
): Promise<SendResult> {
  return inSpan(
    'POST webhook',
    {
      kind: SpanKind.CLIENT,
      parent: remoteContext(traceparent),
      attributes: {
        'http.request.method': 'POST',
        'webhook.message_id': message.id,
        'webhook.endpoint_id': message.endpoint_id,
        'webhook.event_type': message.event_type,
        'webhook.attempt': message.attempts,
      },
    },
    async (span) => {
      const result = await send({
        ...request,
        headers: { ...request.headers, traceparent: formatTraceparent(span.spanContext()) },
      });
      if (result.status !== null) span.setAttribute('http.response.status_code', result.status);
      if (result.error !== null) span.setAttribute('error.type', result.error.slice(0, 200));
      if (result.status === null || result.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return result;
    },
  );
}
