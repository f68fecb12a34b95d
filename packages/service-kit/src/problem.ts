import { z } from 'zod';

/** RFC 9457 problem details; every error a service answers has this shape. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  /** For validation problems: which field is wrong and why. */
  errors?: { field: string; message: string }[];
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const TYPE_BASE = 'https://citydeals.example.org/problems/';

/** An error a handler throws to answer with a specific problem. */
export class HttpProblem extends Error {
  readonly problem: Problem;
  constructor(
    status: number,
    slug: string,
    title: string,
    detail?: string,
    extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? title);
    this.name = 'HttpProblem';
    this.problem = {
      type: `${TYPE_BASE}${slug}`,
      title,
      status,
      ...(detail ? { detail } : {}),
      ...extensions,
    };
  }
}

export const problems = {
  validation: (errors: { field: string; message: string }[]) =>
    new HttpProblem(
      400,
      'validation',
      'The request is not valid',
      errors.map((e) => `${e.field}: ${e.message}`).join('; '),
      { errors },
    ),
  notFound: (what: string) => new HttpProblem(404, 'not-found', 'Not found', `${what} does not exist`),
  conflict: (detail: string, extensions?: Record<string, unknown>) =>
    new HttpProblem(409, 'conflict', 'Conflict', detail, extensions),
  unauthorized: () =>
    new HttpProblem(401, 'unauthorized', 'Authentication required', 'Send Authorization: Bearer <api key>'),
  forbidden: (scope: string) =>
    new HttpProblem(403, 'forbidden', 'Not allowed', `this key lacks the "${scope}" scope`),
  preconditionFailed: (detail: string) =>
    new HttpProblem(412, 'precondition-failed', 'Precondition failed', detail),
};

export function problemBody(status: number, slug: string, title: string, detail?: string): Problem {
  return { type: `${TYPE_BASE}${slug}`, title, status, ...(detail ? { detail } : {}) };
}

/** The problem+json body of every error answer, for the OpenAPI documents of all services. */
export const problemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .meta({
    example: {
      type: 'https://citydeals.example.org/problems/validation',
      title: 'The request is not valid',
      status: 400,
      detail: 'body.email: Invalid email address',
      errors: [{ field: 'body.email', message: 'Invalid email address' }],
    },
  });

const problemDescriptions: Record<number, string> = {
  400: 'The request is not valid; `errors` names each field',
  401: 'No valid API key',
  403: 'The API key lacks the scope',
  404: 'Not found',
  409: 'Not possible in the current state',
  412: 'If-Match does not hold the current version',
  413: 'Request body too large',
  503: 'Shutting down; retry shortly',
};

/** Error answers of a route, documented with the problem schema: `response: { 200: ..., ...problemResponses(400, 404) }`. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((s) => [s, problemSchema.describe(problemDescriptions[s] ?? 'Problem')]),
  );
}
