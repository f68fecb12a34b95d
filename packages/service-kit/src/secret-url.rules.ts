/**
 * Personal links (manage, unsubscribe and any later ones) carry their secret as a path segment. Rather than
 * list every route that does, a segment is treated as secret unless it has one of the shapes that names
 * things: a UUID, a number, or lower-case words (each at most 16 characters) joined by `-` or `_`, with an
 * optional short extension (`calendar.ics`, `openapi.json`). Random tokens (base64url, long hex, `<id>.<mac>`)
 * never have those shapes; a readable segment that does not fit is merely masked too, which costs nothing.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^\d{1,19}$/;
const WORDS = /^[a-z0-9]{1,16}(?:[-_][a-z0-9]{1,16})*(?:\.[a-z0-9]{1,8})?$/;

export function isSecretSegment(segment: string): boolean {
  if (segment === '') return false;
  return !(UUID.test(segment) || NUMBER.test(segment) || WORDS.test(segment));
}

/** The URL with secret path segments and the whole query (it may hold anything) masked, for logs. */
export function redactUrl(url: string): string {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  const masked = path
    .split('/')
    .map((segment) => (isSecretSegment(segment) ? '[redacted]' : segment))
    .join('/');
  return queryAt === -1 ? masked : `${masked}?[redacted]`;
}

/** Whether a request URL reaches something through a secret link (its answer is personal). */
export function carriesSecret(url: string): boolean {
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  return path.split('/').some(isSecretSegment);
}
