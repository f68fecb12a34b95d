import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { HttpProblem, PROBLEM_CONTENT_TYPE, type Problem, problemBody } from './problem.ts';

export type HttpServer = FastifyInstance<
  import('node:http').Server,
  import('node:http').IncomingMessage,
  import('node:http').ServerResponse,
  Logger,
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
  /**
   * The proxies to believe about the client's address (X-Forwarded-For): addresses or CIDRs separated by
   * commas. Absent: the peer's address, as without a proxy.
   */
  trustProxy?: string;
  /** OpenAPI tags with descriptions, in the order the docs page shows them. */
  tags?: { name: string; description: string }[];
}

/**
 * A fastify instance with the conventions every service follows: zod validation, problem+json errors
 * (never a 500 for bad input), an OpenAPI document at /openapi.json and a docs page at /docs.
 */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({
    loggerInstance: options.logger,
    bodyLimit: options.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
    ...(options.trustProxy === undefined ? {} : { trustProxy: options.trustProxy }),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

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

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, description: options.description, version: options.version ?? '0.1.0' },
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
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') readRestOfBodyBeforeAnswering(request, reply);
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
  return app as unknown as HttpServer;
}

/** Beyond this, a body too large is not read to its end: the connection is closed on the client instead. */
const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * Fastify answers a body over the limit at once and closes the connection, as the client may still be
 * sending. Closing a socket with data unread makes the kernel reset it, and a client still writing then gets
 * the reset instead of the 413 (seen as `fetch failed` in the abuse test now and then). For a declared length
 * up to DRAIN_LIMIT_BYTES the connection stays open instead, and Node reads and discards the rest of the body
 * (as for any request whose body the handler left unread), bounded by the server's request timeout.
 */
function readRestOfBodyBeforeAnswering(request: FastifyRequest, reply: FastifyReply): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared <= DRAIN_LIMIT_BYTES && !request.raw.complete) {
    reply.removeHeader('connection');
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
