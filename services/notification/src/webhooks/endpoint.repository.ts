import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type { Database } from '../db/database.ts';

export type EndpointRow = Selectable<Database['webhook_endpoint']>;

export async function insertEndpoint(
  trx: Transaction<Database>,
  row: {
    id: string;
    url: string;
    description: string;
    event_types: string[];
    deal_ids: string[] | null;
    secret: string;
    created_by: string | null;
    now: Date;
  },
): Promise<EndpointRow> {
  const { now, ...values } = row;
  return trx
    .insertInto('webhook_endpoint')
    .values({ ...values, created_at: now, updated_at: now })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findEndpoint(db: Kysely<Database>, id: string): Promise<EndpointRow | undefined> {
  return db.selectFrom('webhook_endpoint').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockEndpoint(trx: Transaction<Database>, id: string): Promise<EndpointRow | undefined> {
  return trx.selectFrom('webhook_endpoint').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export function listEndpoints(
  db: Kysely<Database>,
  options: { enabled?: boolean | undefined; after?: string | undefined; limit: number },
): Promise<EndpointRow[]> {
  let query = db.selectFrom('webhook_endpoint').selectAll().orderBy('id').limit(options.limit);
  if (options.enabled !== undefined) query = query.where('enabled', '=', options.enabled);
  if (options.after) query = query.where('id', '>', options.after);
  return query.execute();
}

/** Every change bumps the version, so list readers can tell two states of an endpoint apart. */
export async function updateEndpoint(
  trx: Transaction<Database>,
  id: string,
  changes: Omit<Updateable<Database['webhook_endpoint']>, 'id' | 'version' | 'updated_at'>,
  now: Date,
): Promise<EndpointRow | undefined> {
  return trx
    .updateTable('webhook_endpoint')
    .set((eb) => ({ ...changes, updated_at: now, version: eb('version', '+', 1) }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
}

export async function deleteEndpoint(trx: Transaction<Database>, id: string): Promise<boolean> {
  const result = await trx.deleteFrom('webhook_endpoint').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
