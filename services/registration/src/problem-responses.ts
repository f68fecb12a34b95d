import { z } from 'zod';

/** The problem+json body every error answer has (RFC 9457), for the OpenAPI document. */
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

const descriptions: Record<number, string> = {
  400: 'The request is not valid; `errors` names each field',
  401: 'No valid API key',
  403: 'The API key lacks the scope',
  404: 'Not found',
  409: 'Not possible in the current state',
  413: 'Request body too large',
};

/** Error answers of a route, documented with the problem schema. */
export function problemResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, problemSchema.describe(descriptions[s] ?? 'Problem')]));
}

export const adminErrors = [400, 401, 403, 404, 409] as const;
