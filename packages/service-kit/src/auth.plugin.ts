import type { FastifyReply, FastifyRequest } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { ApiKeyStore, Scope } from './api-keys.ts';
import { HttpProblem, problems } from './problem.ts';
import { authenticateStaff, looksLikeStaffToken, type StaffTokenVerifier } from './staff-token.ts';

/** A route hook that lets through only callers holding `scope`; `admin` holds every scope. */
export type ScopeGuard = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * A hook that answers 401 without a valid key and 403 without the scope (`admin` holds every scope). The
 * keys are the service's (`app.apiKeys`, decorated by the auth plugin). Routes take it from their instance,
 * `app.requireScope('admin')`.
 */
function requireScope(scope: Scope): ScopeGuard {
  return async (request) => {
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw problems.unauthorized();
    if (looksLikeStaffToken(match[1]!)) {
      await authenticateStaff(request, match[1]!, scope);
      return;
    }
    const key = await request.server.apiKeys.verify(match[1]!);
    if (!key)
      throw new HttpProblem(401, 'unauthorized', 'Authentication required', 'the API key is not valid');
    if (!key.scopes.includes(scope) && !key.scopes.includes('admin')) throw problems.forbidden(scope);
    request.actor = `api-key:${key.name}`;
    request.apiKeyId = key.id;
  };
}

/**
 * Records the key's use once the answer is known to be a success, before it is sent: a refused request
 * writes nothing (not even this), and the write is done by the time the caller has its answer.
 */
function recordApiKeyUse(store: ApiKeyStore) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (request.apiKeyId !== undefined && reply.statusCode < 400) await store.recordUse(request.apiKeyId);
    return payload;
  };
}

/**
 * Who may call: decorates the instance with the service's API keys, the staff-token verifier (null when
 * STAFF_TOKEN_PUBLIC_KEY is not set) and `requireScope`, the typed scope guard every guarded route names.
 */
export const authPlugin = fastifyPlugin<{ apiKeys: ApiKeyStore; staffTokens: StaffTokenVerifier | null }>(
  async (app, { apiKeys, staffTokens }) => {
    app.decorate('apiKeys', apiKeys);
    app.decorate('staffTokens', staffTokens);
    app.decorate('requireScope', requireScope);
    app.addHook('onSend', recordApiKeyUse(apiKeys));
  },
  { name: 'citydeals-auth', fastify: '5.x' },
);

declare module 'fastify' {
  interface FastifyInstance {
    /** The guard of a route that needs `scope`: `{ onRequest: app.requireScope('admin') }`. */
    requireScope(scope: Scope): ScopeGuard;
  }
}
