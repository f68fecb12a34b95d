import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { remoteContext, tracer, tracingOn, turnTracingOn, withRequestId } from '@citydeals/messaging';
import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/sdk-trace';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConfigError } from './config.ts';
import type { HttpServer } from './http-server.ts';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * The standard OpenTelemetry variables this system reads. Tracing is off unless an OTLP endpoint is given
 * (or `OTEL_TRACES_EXPORTER=otlp`); `OTEL_TRACES_EXPORTER=none` or `OTEL_SDK_DISABLED=true` turn it off again.
 * The endpoint, headers and timeout are read by the exporter itself, as the specification describes.
 */
const tracingEnvSchema = z.object({
  OTEL_SDK_DISABLED: optional,
  OTEL_TRACES_EXPORTER: z
    .enum(['otlp', 'none', ''], { message: 'only otlp or none are supported' })
    .optional()
    .transform((v) => (v === '' ? undefined : v)),
  OTEL_EXPORTER_OTLP_ENDPOINT: optional.pipe(z.url().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optional.pipe(z.url().optional()),
  OTEL_SERVICE_NAME: optional,
  OTEL_BSP_SCHEDULE_DELAY: z.coerce.number().int().min(1).default(5_000),
});

export interface TracingConfig {
  enabled: boolean;
  serviceName: string | undefined;
  scheduleDelayMs: number;
}

export function tracingConfig(env: NodeJS.ProcessEnv = process.env): Readonly<TracingConfig> {
  const result = tracingEnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const c = result.data;
  const endpoint = c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? c.OTEL_EXPORTER_OTLP_ENDPOINT;
  const enabled =
    c.OTEL_SDK_DISABLED !== 'true' &&
    (c.OTEL_TRACES_EXPORTER === 'otlp' || (c.OTEL_TRACES_EXPORTER === undefined && endpoint !== undefined));
  return Object.freeze({
    enabled,
    serviceName: c.OTEL_SERVICE_NAME,
    scheduleDelayMs: c.OTEL_BSP_SCHEDULE_DELAY,
  });
}

let provider: TracerProvider | undefined;

/**
 * Registers the OpenTelemetry SDK for this process when the environment asks for it (once: the SDK is
 * process-global). With tracing off the SDK is not even loaded, and no span is ever started.
 */
export async function startTracing(
  service: string,
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const config = tracingConfig(env);
  if (!config.enabled || provider) return;
  const [{ AsyncLocalStorageContextManager }, { OTLPTraceExporter }, { resourceFromAttributes }, sdk] =
    await Promise.all([
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace'),
    ]);
  if (provider) return;
  const { BatchSpanProcessor, TracerProvider } = sdk;
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName ?? service }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(),
        scheduledDelayMillis: config.scheduleDelayMs,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  turnTracingOn();
  logger.info('tracing on: spans are exported over OTLP');
}

/** Sends the spans still buffered; called on shutdown. */
export async function flushTracing(): Promise<void> {
  await provider?.forceFlush().catch(() => {});
}

const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Fastify's request id: the caller's `x-request-id` when it is a plausible id (a header is user input and
 * ends up in logs, spans and events), else a new UUID.
 */
export function requestIdOf(request: IncomingMessage): string {
  const header = request.headers['x-request-id'];
  return typeof header === 'string' && REQUEST_ID_PATTERN.test(header) ? header : randomUUID();
}

const serverSpans = new WeakMap<FastifyRequest, Span>();

/**
 * Every request answers with its request id; with tracing on, each request (but probes and scrapes) gets a
 * server span, continuing the caller's `traceparent`, that is the active span while its handler runs. Called
 * after `startTracing`: with tracing off, the span hooks are not even installed.
 */
export function instrumentRequests(app: HttpServer): void {
  if (!tracingOn()) {
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
    return;
  }
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    if (request.url.startsWith('/health/') || request.url === '/metrics') return done();
    const traceparent = request.headers.traceparent;
    const route = request.routeOptions.url ?? request.url.split('?')[0];
    const span = tracer().startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'http.request.method': request.method,
          'http.route': route,
          'request.id': request.id,
          'http.request.header.x-request-id': [request.id],
        },
      },
      remoteContext(typeof traceparent === 'string' ? traceparent : undefined),
    );
    serverSpans.set(request, span);
    done();
  });
  // The handler is called from this hook's callback, so it and all it awaits run in the span's context (as
  // route-level hooks after this one do); body parsing before it does not keep the context.
  app.addHook('preHandler', (request, _reply, done) => {
    const span = serverSpans.get(request);
    if (!span) return done();
    context.with(withRequestId(trace.setSpan(context.active(), span), request.id), done);
  });
  app.addHook('onResponse', (request, reply, done) => {
    const span = serverSpans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      serverSpans.delete(request);
    }
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    serverSpans.get(request)?.end();
    serverSpans.delete(request);
    done();
  });
}
