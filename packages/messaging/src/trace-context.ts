import { setTraceExtensionSource, type TraceExtensions } from '@citydeals/contracts';
import {
  type Attributes,
  type Context,
  context,
  createContextKey,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from '@opentelemetry/api';

/**
 * W3C trace context and the request id across the outbox, NATS and consumers. Everything here is a no-op
 * until the runtime has registered an OpenTelemetry SDK and called `turnTracingOn()`: the hot paths ask
 * `tracingOn()` first and do no other work with tracing off.
 */
let on = false;
const REQUEST_ID = createContextKey('citydeals.request-id');
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const INVALID_TRACE = '0'.repeat(32);
const INVALID_SPAN = '0'.repeat(16);

/** The span attribute that carries the `x-request-id` on every span of a request's trace. */
export const REQUEST_ID_ATTRIBUTE = 'request.id';

export function tracingOn(): boolean {
  return on;
}

/** Called once the SDK (tracer provider and context manager) is registered for this process. */
export function turnTracingOn(): void {
  on = true;
  setTraceExtensionSource(currentTraceExtensions);
}

export function tracer() {
  return trace.getTracer('citydeals');
}

export function formatTraceparent(sc: SpanContext): string {
  const sampled = (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED;
  return `00-${sc.traceId}-${sc.spanId}-${sampled ? '01' : '00'}`;
}

/** A remote span context from a `traceparent` value; undefined for anything not a valid version-00 one. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const match = value ? TRACEPARENT.exec(value) : null;
  if (!match || match[1] === INVALID_TRACE || match[2] === INVALID_SPAN) return undefined;
  return {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
}

/** The context to continue a trace (and request) that arrived from another process. */
export function remoteContext(traceparent: string | null | undefined, requestId?: string | null): Context {
  const sc = parseTraceparent(traceparent);
  const ctx = sc ? trace.setSpanContext(ROOT_CONTEXT, sc) : ROOT_CONTEXT;
  return requestId ? ctx.setValue(REQUEST_ID, requestId) : ctx;
}

export function withRequestId(ctx: Context, requestId: string | undefined): Context {
  return requestId ? ctx.setValue(REQUEST_ID, requestId) : ctx;
}

/** The request id of the active context (an HTTP request, or the event a consumer applies); with tracing on. */
export function currentRequestId(): string | undefined {
  return context.active().getValue(REQUEST_ID) as string | undefined;
}

/** The `traceparent` of the active span, to store with work that continues later; undefined with tracing off. */
export function currentTraceparent(): string | undefined {
  if (!on) return undefined;
  const sc = trace.getSpan(context.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? formatTraceparent(sc) : undefined;
}

function currentTraceExtensions(): TraceExtensions | undefined {
  const traceparent = currentTraceparent();
  const requestid = currentRequestId();
  if (!traceparent && !requestid) return undefined;
  return { ...(traceparent ? { traceparent } : {}), ...(requestid ? { requestid } : {}) };
}

/**
 * Runs `work` in a new span that is the active one meanwhile (what it stores or sends continues the trace),
 * and ends it with the outcome: a thrown error marks it failed and is rethrown.
 */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; parent: Context; attributes?: Attributes },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const span = tracer().startSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    options.parent,
  );
  const requestId = options.parent.getValue(REQUEST_ID) as string | undefined;
  if (requestId) span.setAttribute(REQUEST_ID_ATTRIBUTE, requestId);
  try {
    return await context.with(trace.setSpan(options.parent, span), () => work(span));
  } catch (err) {
    failSpan(span, err);
    throw err;
  } finally {
    span.end();
  }
}

export function failSpan(span: Span, err: unknown): void {
  span.recordException(err instanceof Error ? err : String(err));
  span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
}

const ENTITY_TOKEN = /\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The name of a span about a message: its subject without the entity token that events with personal data
 * carry (`registration.attendee.registered.<id>`), so span names stay one per kind of event.
 */
export function spanSubject(subject: string): string {
  return subject.replace(ENTITY_TOKEN, '');
}
