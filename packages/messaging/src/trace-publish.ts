import { type Span, SpanKind } from '@opentelemetry/api';
import type { BatchItem } from './jetstream-batch-publisher.ts';
import {
  failSpan,
  formatTraceparent,
  REQUEST_ID_ATTRIBUTE,
  remoteContext,
  spanSubject,
  tracer,
} from './trace-context.ts';

interface TracedRow {
  event_id: string;
  subject: string;
  traceparent: string | null;
  request_id: string | null;
}

/**
 * A producer span for each outbox row that carries a trace, child of the operation that wrote the row; its
 * context (and the request id) go out as NATS headers of the row's message, so the consumer continues from
 * the publish. Rows without a trace are published untouched. `end` closes the spans with the outcomes.
 */
export function publishSpans(
  rows: readonly TracedRow[],
  items: BatchItem[],
): { end(outcomes: readonly (Error | null)[]): void } {
  const spans: (Span | undefined)[] = rows.map((row, i) => {
    if (!row.traceparent) return undefined;
    const span = tracer().startSpan(
      `publish ${spanSubject(row.subject)}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'nats',
          'messaging.operation.type': 'send',
          'messaging.destination.name': row.subject,
          'messaging.message.id': row.event_id,
          ...(row.request_id ? { [REQUEST_ID_ATTRIBUTE]: row.request_id } : {}),
        },
      },
      remoteContext(row.traceparent),
    );
    const item = items[i]!;
    item.headers = {
      traceparent: formatTraceparent(span.spanContext()),
      ...(row.request_id ? { 'x-request-id': row.request_id } : {}),
    };
    return span;
  });
  return {
    end(outcomes) {
      for (const [i, span] of spans.entries()) {
        if (!span) continue;
        const err = outcomes[i];
        if (err) failSpan(span, err);
        span.end();
      }
    },
  };
}
