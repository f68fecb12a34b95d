import type { Clock } from '@citydeals/service-kit';
import { problems } from '@citydeals/service-kit';
import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import {
  deleteEndpoint,
  type EndpointRow,
  findEndpoint,
  insertEndpoint,
  listEndpoints,
  lockEndpoint,
  updateEndpoint,
} from './endpoint.repository.ts';
import type { SecretCipher } from './secret.cipher.ts';
import { formatSecret, SECRET_BYTES } from './secret.rules.ts';
import { checkEndpointUrl, type ResolveAll } from './ssrf.guard.ts';
import type { AllowList } from './ssrf.rules.ts';

export interface EndpointDeps {
  db: Kysely<Database>;
  clock: Clock;
  newId: () => string;
  randomBytes: (size: number) => Uint8Array;
  cipher: SecretCipher;
  allow: AllowList;
  resolveAll?: ResolveAll;
  rotationGraceMs: number;
}

export interface EndpointInput {
  url: string;
  description?: string | undefined;
  eventTypes: string[];
  dealIds?: string[] | null | undefined;
}

async function safeUrl(deps: EndpointDeps, url: string): Promise<string> {
  const check = await checkEndpointUrl(url, deps.allow, deps.resolveAll);
  if (!check.ok)
    throw problems.validation([{ field: 'body.url', message: `target refused: ${check.reason}` }]);
  return check.url;
}

export async function createEndpoint(
  deps: EndpointDeps,
  input: EndpointInput,
  actor: string | null,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const url = await safeUrl(deps, input.url);
  const id = deps.newId();
  const secret = formatSecret(deps.randomBytes(SECRET_BYTES));
  const endpoint = await deps.db.transaction().execute((trx) =>
    insertEndpoint(trx, {
      id,
      url,
      description: input.description ?? '',
      event_types: [...new Set(input.eventTypes)],
      deal_ids: input.dealIds ? [...new Set(input.dealIds)] : null,
      secret: deps.cipher.seal(secret, id),
      created_by: actor,
      now: deps.clock.now(),
    }),
  );
  return { endpoint, secret };
}

export async function getEndpoint(deps: EndpointDeps, id: string): Promise<EndpointRow> {
  const endpoint = await findEndpoint(deps.db, id);
  if (!endpoint) throw problems.notFound(`webhook endpoint ${id}`);
  return endpoint;
}

export function findEndpoints(
  deps: EndpointDeps,
  query: { enabled?: boolean | undefined; after?: string | undefined; limit: number },
) {
  return listEndpoints(deps.db, query);
}

export async function changeEndpoint(
  deps: EndpointDeps,
  id: string,
  input: Partial<EndpointInput>,
): Promise<EndpointRow> {
  const url = input.url === undefined ? undefined : await safeUrl(deps, input.url);
  const updated = await deps.db.transaction().execute((trx) =>
    updateEndpoint(
      trx,
      id,
      {
        ...(url !== undefined ? { url } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.eventTypes !== undefined ? { event_types: [...new Set(input.eventTypes)] } : {}),
        ...(input.dealIds !== undefined
          ? { deal_ids: input.dealIds ? [...new Set(input.dealIds)] : null }
          : {}),
      },
      deps.clock.now(),
    ),
  );
  if (!updated) throw problems.notFound(`webhook endpoint ${id}`);
  return updated;
}

/** Enabling starts the endpoint's health over: its pending messages are sent again from now on. */
export async function setEndpointEnabled(
  deps: EndpointDeps,
  id: string,
  enabled: boolean,
): Promise<EndpointRow> {
  const now = deps.clock.now();
  const updated = await deps.db
    .transaction()
    .execute((trx) =>
      updateEndpoint(
        trx,
        id,
        enabled
          ? { enabled: true, disabled_reason: null, disabled_at: null, failing_since: null }
          : { enabled: false, disabled_reason: 'manual', disabled_at: now },
        now,
      ),
    );
  if (!updated) throw problems.notFound(`webhook endpoint ${id}`);
  return updated;
}

export async function removeEndpoint(deps: EndpointDeps, id: string): Promise<void> {
  const deleted = await deps.db.transaction().execute((trx) => deleteEndpoint(trx, id));
  if (!deleted) throw problems.notFound(`webhook endpoint ${id}`);
}

/**
 * A new secret signs from now on; the one it replaces keeps signing too until the grace period ends, so
 * receivers can switch without missing a message. Rotating again inside a grace period drops the oldest.
 */
export async function rotateSecret(
  deps: EndpointDeps,
  id: string,
  graceMs: number | undefined,
): Promise<{ endpoint: EndpointRow; secret: string }> {
  const now = deps.clock.now();
  const secret = formatSecret(deps.randomBytes(SECRET_BYTES));
  const grace = graceMs ?? deps.rotationGraceMs;
  const endpoint = await deps.db.transaction().execute(async (trx) => {
    const current = await lockEndpoint(trx, id);
    if (!current) return undefined;
    return updateEndpoint(
      trx,
      id,
      {
        secret: deps.cipher.seal(secret, id),
        previous_secret: grace > 0 ? current.secret : null,
        previous_secret_expires_at: grace > 0 ? new Date(now.getTime() + grace) : null,
      },
      now,
    );
  });
  if (!endpoint) throw problems.notFound(`webhook endpoint ${id}`);
  return { endpoint, secret };
}
