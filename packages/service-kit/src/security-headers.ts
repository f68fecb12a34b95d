import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { carriesSecret } from './secret-url.rules.ts';

/** Texts of inline `<style>` and `<script>` elements a service's pages embed (exactly as in the page). */
export interface ContentSecurity {
  inlineStyles?: readonly string[];
  inlineScripts?: readonly string[];
}

const cspHash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The policy of every HTML page: only this origin's files, plus the inline blocks the service declared by
 * hash, so injected markup can neither run script nor restyle the page; no framing (clickjacking), no
 * plugins, forms post back here only. Hashes, not `'unsafe-inline'` and not per-response nonces: the pages'
 * inline blocks are constants, and a hash lets nothing else through.
 */
export function contentSecurityPolicy(
  security: ContentSecurity = {},
  options: { inlineStyleAttributes?: boolean } = {},
): string {
  const styles = (security.inlineStyles ?? []).map(cspHash);
  // Only for the API docs: Swagger UI renders highlighted examples with style attributes. Its scripts stay
  // strict, and the page holds no personal data.
  if (options.inlineStyleAttributes) styles.push("'unsafe-inline'");
  const scripts = (security.inlineScripts ?? []).map(cspHash);
  return [
    "default-src 'none'",
    ["script-src 'self'", ...scripts].join(' '),
    ["style-src 'self'", ...styles].join(' '),
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/**
 * Security headers for every answer of the service, set in one place so that every page gets them,
 * including the ones added later:
 * - all answers: `nosniff`, so nothing is read as a type it was not sent as;
 * - HTML: the content security policy, no framing, and a referrer only to this origin;
 * - anything reached through a secret link (see secret-url.rules.ts), and any page answering a form post
 *   (it shows what was posted, or the personal link just made): never stored by a cache or the browser,
 *   and no referrer at all, so the link leaves no trace in caches, history snapshots or other sites' logs.
 */
export function securityHeadersHook(security?: ContentSecurity) {
  const policy = contentSecurityPolicy(security);
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    reply.header('x-content-type-options', 'nosniff');
    const type = String(reply.getHeader('content-type') ?? '');
    const html = type.startsWith('text/html');
    if (html) {
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', policy);
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('referrer-policy')) reply.header('referrer-policy', 'same-origin');
    }
    const formAnswer = html && request.method !== 'GET' && request.method !== 'HEAD';
    if (formAnswer || carriesSecret(request.url)) {
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
    }
    return payload;
  };
}
