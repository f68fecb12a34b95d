/**
 * Postgres cannot store U+0000 in text (it fails the whole statement), and no field of this system has a use
 * for it; elsewhere it truncates strings in C libraries and log viewers. So one rule for every service: a NUL
 * anywhere in the path, query string or body is bad input, answered before validation and before any handler.
 */

export interface NulByteFinding {
  /** Where it was, named as validation problems name fields: `body.attendee.name`, `querystring.q`, `params.token`. */
  field: string;
}

/** The first string (or object key) holding a NUL, walking objects and arrays; null when there is none. */
export function findNulByte(value: unknown, field: string): NulByteFinding | null {
  if (typeof value === 'string') return value.includes('\u0000') ? { field } : null;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNulByte(item, `${field}.${i}`);
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return { field };
      const found = findNulByte(item, `${field}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

/** The request parts checked, in the order a problem names them. */
export function findNulByteInRequest(request: {
  params?: unknown;
  query?: unknown;
  body?: unknown;
}): NulByteFinding | null {
  return (
    findNulByte(request.params, 'params') ??
    findNulByte(request.query, 'querystring') ??
    findNulByte(request.body, 'body')
  );
}
