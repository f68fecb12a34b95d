import type { IncomingMessage, ServerResponse } from 'node:http';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginOptions,
  type FastifyReply,
  type FastifyRequest,
  LogController,
  type RawServerDefault,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { HttpProblem, PROBLEM_CONTENT_TYPE, type Problem, problemBody, problems } from './problem.ts';
import { type ContentSecurity, contentSecurityPolicy, securityHeadersHook } from './security-headers.ts';
import { findNulByteInRequest } from './text-input.rules.ts';
import { instrumentRequests, requestIdOf } from './tracing.ts';

/** A service's fastify instance: zod schemas type the requests and answers of every route. */
export type HttpServer = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A fastify plugin of a service: its instance is an HttpServer, so routes get zod-typed requests. */
export type ServicePlugin<Options extends FastifyPluginOptions = Record<never, never>> = FastifyPluginAsync<
  Options,
  RawServerDefault,
  ZodTypeProvider
>;

export interface HttpServerOptions {
  logger: Logger;
  title: string;
  description: string;
  version?: string;
  /** Largest request body accepted, in bytes; more is answered 413. */
  bodyLimit?: number;
  /** Requests per minute from one client address; 0 or absent turns the limit off. */
  rateLimitPerMinute?: number;
  /** Proxies trusted to name the client (X-Forwarded-For): see TRUST_PROXY in config.ts. */
  trustProxy?: boolean | number | string[];
  /** OpenAPI tags with descriptions, in the order the docs page shows them. */
  tags?: { name: string; description: string }[];
  /** Slow and idle clients: how long a connection may take or sit (defaults: see DEFAULT_TIMEOUTS). */
  timeouts?: Partial<HttpTimeouts>;
  /** The inline `<style>`/`<script>` texts the service's own pages embed, allowed by hash in their CSP. */
  contentSecurity?: ContentSecurity;
}

export interface HttpTimeouts {
  /** To receive a whole request, headers and body; a client trickling its body is cut off after it (408). */
  requestMs: number;
  /** A connection with no traffic either way for this long is closed, whatever state it is in. */
  idleMs: number;
  /** An idle keep-alive connection between requests is closed after this. */
  keepAliveMs: number;
  /** After a 413, the rest of a declared body is read and discarded for at most this long. */
  drainMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<HttpTimeouts> = Object.freeze({
  requestMs: 30_000,
  idleMs: 120_000,
  keepAliveMs: 72_000,
  drainMs: 5_000,
});

/**
 * A fastify instance with the conventions every service follows: zod validation, problem+json errors
 * (never a 500 for bad input), an OpenAPI document at /openapi.json and a docs page at /docs.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const app = Fastify<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger>({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
    trustProxy: trustedHops(options.trustProxy),
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: requestIdOf,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    // Fastify leaves all of these off: a client sending a byte now and then would hold a connection forever.
    requestTimeout: timeouts.requestMs,
    connectionTimeout: timeouts.idleMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    http: {
      // Headers are small: a client that has not sent them within seconds is not a client.
      headersTimeout: Math.min(timeouts.requestMs, 10_000),
      // Node checks the request timeouts on this interval; its default (30 s) would let one run twice as long.
      connectionsCheckingInterval: Math.min(1_000, timeouts.requestMs),
    },
  }).withTypeProvider<ZodTypeProvider>();
  instrumentRequests(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', securityHeadersHook(options.contentSecurity));
  // Before validation, for every route of every service: see text-input.rules.ts.
  app.addHook('preValidation', async (request) => {
    const found = findNulByteInRequest(request);
    if (found) throw problems.validation([{ field: found.field, message: 'must not contain a NUL byte' }]);
  });

  // Who changed what: every authenticated change is logged with its actor (a person through the console,
  // `staff:<name> <email>`, or a key), also where no table records who made it (a webhook's rotation, a retry).
  app.addHook('onResponse', async (request, reply) => {
    if (!request.actor || request.method === 'GET' || request.method === 'HEAD') return;
    request.log.info(
      { actor: request.actor, route: request.routeOptions.url, statusCode: reply.statusCode },
      'change by an authenticated caller',
    );
  });

  if (options.rateLimitPerMinute) {
    // Before any route, so every route gets it; health and metrics stay reachable for probes and scrapers.
    await app.register(rateLimit, {
      global: true,
      max: options.rateLimitPerMinute,
      timeWindow: 60_000,
      allowList: (request) => request.url.startsWith('/health/') || request.url === '/metrics',
      errorResponseBuilder: (_request, context) =>
        new HttpProblem(
          429,
          'too-many-requests',
          'Too many requests',
          `at most ${context.max} requests a minute from one address; retry in ${Math.ceil(context.ttl / 1000)} s`,
        ),
    });
  }

  // A route that declares no security scheme is public, and its operation says so (`security: []`), as
  // OpenAPI linters ask; guarded routes name their scheme themselves. Before swagger's own onRoute hook,
  // which collects the schemas.
  app.addHook('onRoute', (route) => {
    if (route.schema && !route.schema.hide && route.schema.security === undefined) {
      route.schema = { ...route.schema, security: [] };
    }
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, description: options.description, version: options.version ?? '0.1.0' },
      // Relative: the document is served by the service it describes, wherever that is deployed.
      servers: [{ url: '/', description: 'This service (where this document is served)' }],
      tags: [
        ...(options.tags ?? []),
        { name: 'operations', description: 'Health, metrics and dead letters' },
      ],
      components: {
        securitySchemes: {
          adminKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'An admin API key (`npm start` prints one)',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: contentSecurityPolicy({}, { inlineStyleAttributes: true }),
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
      readRestOfBodyBeforeAnswering(request, reply, timeouts.drainMs);
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .status(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(
        problemBody(404, 'not-found', 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`),
      ),
  );
  return app;
}

/** A number of hops as the function fastify also builds from one (its typings accept no number here). */
function trustedHops(trust: HttpServerOptions['trustProxy']) {
  if (typeof trust !== 'number') return trust ?? false;
  return (_address: string, hop: number) => hop < trust;
}

/** Beyond this, a body too large is not read to its end: the connection is closed on the client instead. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Fastify answers a body over the limit at once and closes the connection, as the client may still be
 * sending. Closing a socket with data unread makes the kernel reset it, and a client still writing then gets
 * the reset instead of the 413 (seen as `fetch failed` in the abuse test now and then). For a declared length
 * up to DRAIN_LIMIT_BYTES the connection stays open instead, and Node reads and discards the rest of the body
 * (as for any request whose body the handler left unread), for at most `drainMs`: a client that sends the
 * rest slowly, or never, then loses the connection.
 */
function readRestOfBodyBeforeAnswering(request: FastifyRequest, reply: FastifyReply, drainMs: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared <= DRAIN_LIMIT_BYTES && !request.raw.complete) {
    reply.removeHeader('connection');
    // Through the request, which destroys its socket: a request injected in a test has a socket without destroy.
    setTimeout(() => {
      if (!request.raw.complete) request.raw.destroy();
    }, drainMs).unref();
  }
}

function toProblem(error: FastifyError): Problem {
  if (error instanceof HttpProblem) return error.problem;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const location = error.validationContext ?? 'body';
    const errors = error.validation.map((v) => ({
      field: [location, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'is not valid',
    }));
    return {
      ...problemBody(
        400,
        'validation',
        'The request is not valid',
        errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      ),
      errors,
    };
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
  if (status >= 500)
    return problemBody(500, 'internal', 'Internal error', 'The service failed; it has been logged');
  return problemBody(status, slugFor(status), titleFor(status), error.message);
}

function slugFor(status: number): string {
  return (
    { 400: 'bad-request', 413: 'payload-too-large', 415: 'unsupported-media-type', 429: 'too-many-requests' }[
      status
    ] ?? `http-${status}`
  );
}

function titleFor(status: number): string {
  return (
    {
      400: 'Bad request',
      401: 'Authentication required',
      403: 'Not allowed',
      404: 'Not found',
      405: 'Method not allowed',
      406: 'Not acceptable',
      413: 'Request body too large',
      415: 'Unsupported media type',
      429: 'Too many requests',
    }[status] ?? 'Request not accepted'
  );
}
