import type { Actor } from '@citydeals/contracts';
import { type HttpServer, problemSchema, type Scope } from '@citydeals/service-kit';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseIfMatch } from '../deals/deal.rules.ts';
import type { ChangeRequest } from '../deals/deal.service.ts';

/**
 * Auth runs on `onRequest`, before validation, so a caller without a key learns nothing about the schema
 * of a write and never has its body parsed.
 */
export function authenticated(app: HttpServer, scope: Scope) {
  return {
    onRequest: app.requireScope(scope),
  };
}

/** The person (through the console) or the API key that made the call, as events and history record it. */
export function actorOf(request: FastifyRequest): Actor {
  const { staff } = request;
  if (staff) return { type: 'user', id: `staff:${staff.id}`, name: `${staff.name} <${staff.email}>` };
  const id = request.actor ?? 'api-key:unknown';
  return { type: 'api_key', id, name: id.replace(/^api-key:/, '') };
}

const etag = '(?:W/)?"?[1-9][0-9]{0,9}"?';
const ifMatchPattern = new RegExp(`^\\s*(?:\\*|${etag}(?:\\s*,\\s*${etag})*)\\s*$`);

/** Loose: the headers object fastify validates is the whole request's, and must keep Authorization. */
export const ifMatchHeaders = z.looseObject({
  'if-match': z
    .string()
    .regex(ifMatchPattern, 'must be the deal\'s ETag (its version, e.g. "3") or *')
    .optional()
    .describe(
      'Optimistic concurrency: the version (ETag) the change is based on. If the deal has moved on, the ' +
        'answer is 412 and nothing is written. Without it, the change applies to whatever version is current.',
    )
    .meta({ example: '"3"' }),
});

export function changeRequestOf(request: FastifyRequest, dealId: string): ChangeRequest {
  const header = request.headers['if-match'];
  return {
    dealId,
    ifMatch: parseIfMatch(Array.isArray(header) ? header.join(',') : header),
    actor: actorOf(request),
  };
}

const problemExample = (status: number, slug: string, title: string, detail: string, extra = {}) =>
  problemSchema.describe(title).meta({
    example: { type: `https://citydeals.example.org/problems/${slug}`, title, status, detail, ...extra },
  });

export const problems400 = problemExample(
  400,
  'validation',
  'The request is not valid',
  'body.reason: Too small',
  {
    errors: [{ field: 'body.reason', message: 'Too small: expected string to have >=1 characters' }],
  },
);
export const problems401 = problemExample(
  401,
  'unauthorized',
  'Authentication required',
  'Send Authorization: Bearer <api key>',
);
export const problems403 = problemExample(
  403,
  'forbidden',
  'Not allowed',
  'this key lacks the "admin" scope',
);
export const problems404 = problemExample(
  404,
  'not-found',
  'Not found',
  'deal 01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f does not exist',
);
export const problems409 = problemExample(
  409,
  'conflict',
  'Conflict',
  'another deal already has the slug "slimme-stad"',
);
export const illegalTransition409 = problemExample(
  409,
  'illegal-transition',
  'Phase change not allowed',
  'a deal cannot move from delivering to completed; allowed: securing, discontinued',
  { from: 'delivering', to: 'completed', allowedPhases: ['securing', 'discontinued'] },
);
export const problems412 = problemExample(
  412,
  'precondition-failed',
  'Precondition failed',
  'the deal is at version 5, not the one in If-Match; read it again and retry',
  { currentVersion: 5 },
);

export const readResponses = { 400: problems400, 401: problems401, 403: problems403 };
export const writeResponses = { ...readResponses, 404: problems404, 409: problems409, 412: problems412 };

export type WithIsoTimes<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? WithIsoTimes<U>[]
    : T extends object
      ? { [K in keyof T]: WithIsoTimes<T[K]> }
      : T;

/** Records hold Dates; the API answers ISO timestamps (the response schemas check that shape). */
export function withIsoTimes<T>(value: T): WithIsoTimes<T> {
  if (value instanceof Date) return value.toISOString() as WithIsoTimes<T>;
  if (Array.isArray(value)) return value.map(withIsoTimes) as WithIsoTimes<T>;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withIsoTimes(v)])) as WithIsoTimes<T>;
  }
  return value as WithIsoTimes<T>;
}
