/**
 * Tracing across the three services as separate processes (the OpenTelemetry SDK is process-global), each
 * exporting to an OTLP/HTTP receiver this test runs: one trace from the HTTP request through the outbox,
 * NATS and the consumer to the SMTP server's answer, and one to the webhook receiver's response, with the
 * request's `x-request-id` on every hop.
 */
import { randomUUID } from 'node:crypto';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { type ReceivedSpan, startOtlpReceiver } from '../src/otlp-receiver.ts';
import { adminAuth, System } from '../src/system.ts';
import { createDeal, createMeeting, personFor, subscribeWebhooks } from '../src/workload.ts';

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

const receiver = await startOtlpReceiver();
t.teardown(() => receiver.close());
const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
const system = await System.start({
  env: { registration: otel, deal_tracking: otel, notification: otel },
});
t.teardown(() => system.close());

const deal = await createDeal(system);
const meeting = await createMeeting(system);
await subscribeWebhooks(system);
await system.drain();

/** The spans of one trace, once the last hop has arrived; parent links are checked by the caller. */
async function traceOf(requestId: string, lastHop: (span: ReceivedSpan) => boolean) {
  const spans = await eventually(() => {
    const server = receiver.spans.find((s) => s.kind === SERVER && s.attributes['request.id'] === requestId);
    const trace = server ? receiver.spans.filter((s) => s.traceId === server.traceId) : [];
    return trace.some(lastHop) ? trace : undefined;
  }, 30_000);
  return spans ?? [];
}

function chain(spans: ReceivedSpan[], last: ReceivedSpan | undefined) {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const path: ReceivedSpan[] = [];
  for (let s = last; s; s = byId.get(s.parentSpanId)) path.unshift(s);
  return path;
}

t.test('one trace from the registration request to the SMTP server answer', async (t) => {
  const requestId = `trace-${randomUUID()}`;
  const res = await fetch(`${system.url('registration')}/meetings/${meeting.id}/registrations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify(personFor(randomUUID())),
  });
  t.equal(res.status, 201, 'registered');
  t.equal(res.headers.get('x-request-id'), requestId, 'the request id is honoured and echoed');

  const spans = await traceOf(requestId, (s) => s.name === 'smtp send');
  const smtp = spans.find((s) => s.name === 'smtp send');
  t.ok(smtp, 'the SMTP send is in the trace of the request');
  const path = chain(spans, smtp);
  t.same(
    path.map((s) => [s.service, s.kind, s.name]),
    [
      ['registration', SERVER, 'POST /meetings/:id/registrations'],
      ['registration', PRODUCER, 'publish registration.attendee.registered'],
      ['notification', CONSUMER, 'process registration.attendee.registered'],
      ['notification', CLIENT, 'smtp send'],
    ],
    'HTTP server → outbox publish → consumer → SMTP, each the parent of the next',
  );
  t.equal(path[0]?.parentSpanId, '', 'the HTTP span is the root');
  t.equal(path[1]?.attributes['request.id'], requestId, 'the publish carries the request id');
  t.equal(path[2]?.attributes['request.id'], requestId, 'the consumer carries the request id');
  t.equal(path[2]?.attributes['messaging.consumer.group.name'], 'notification-registration-events');
  t.equal(path[3]?.attributes['smtp.response_code'], 250, 'the SMTP server answer is on the span');
  t.match(path[3]?.attributes['smtp.response'], /^250/);
  t.same(receiver.rejected, [], 'everything the services sent was OTLP JSON');
});

t.test('one trace from a deal change to the webhook receiver response', async (t) => {
  const requestId = `trace-${randomUUID()}`;
  const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const res = await fetch(`${system.url('deal_tracking')}/deals/${deal.id}`, {
    method: 'PATCH',
    headers: {
      'content-type': 'application/json',
      'x-request-id': requestId,
      traceparent: incoming,
      ...adminAuth,
    },
    body: JSON.stringify({ summary: `traced ${requestId}` }),
  });
  t.equal(res.status, 200, 'deal changed');

  const spans = await traceOf(requestId, (s) => s.name === 'POST webhook');
  const hook = spans.find((s) => s.name === 'POST webhook');
  const path = chain(spans, hook);
  t.same(
    path.map((s) => [s.service, s.kind]),
    [
      ['deal_tracking', SERVER],
      ['deal_tracking', PRODUCER],
      ['notification', CONSUMER],
      ['notification', CLIENT],
    ],
    'HTTP server → outbox publish → consumer → webhook request, each the parent of the next',
  );
  t.equal(path[0]?.traceId, '0af7651916cd43dd8448eb211c80319c', "the caller's traceparent is continued");
  t.equal(path[0]?.parentSpanId, 'b7ad6b7169203331');
  t.equal(path[2]?.attributes['request.id'], requestId, 'the consumer carries the request id');
  t.equal(path[3]?.attributes['http.response.status_code'], 204, 'the receiver response is on the span');
  const delivered = system.hooks.received.find((d) => d.body.includes(requestId));
  t.equal(
    delivered?.traceparent,
    `00-${path[3]?.traceId}-${path[3]?.spanId}-01`,
    'the webhook request carries the client span as its traceparent',
  );
});
