import { createHash } from 'node:crypto';
import { type RawBuilder, sql } from 'kysely';
import type pg from 'pg';

const MARK_AT_START = /^\/\*prepared:([a-z0-9-]+)\*\//;
const MARK_AT_END = /\/\*prepared:([a-z0-9-]+)\*\/$/;

/**
 * Put first in a hot statement's SQL (`sql\`${prepared('register')} with …\``), or last in a Kysely builder
 * (`.modifyEnd(prepared('lease-mail'))`), to have Postgres parse and plan it once per connection instead
 * of on every call: for the registering statement (a CTE of an update and two inserts) planning cost as much
 * Postgres CPU as executing it, and in the webhook burst parsing and planning were a large share of Postgres'
 * CPU. Only for statements whose text does not vary with their input (arrays, not value lists).
 */
export function prepared(name: string): RawBuilder<unknown> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`prepared statement name "${name}": a-z, 0-9 and -`);
  return sql.raw(`/*prepared:${name}*/`);
}

/**
 * Sends marked statements as named prepared statements. The name carries a hash of the text, because a
 * connection refuses a known name with another text (a statement whose SQL varies, say with a list's
 * length, gets one prepared statement per variant).
 */
export function prepareMarkedStatements(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    if (typeof text === 'string') {
      const mark = MARK_AT_START.exec(text) ?? (text.endsWith('*/') ? MARK_AT_END.exec(text) : null);
      if (mark) {
        let name = names.get(text);
        if (!name) {
          name = `${mark[1]}-${createHash('sha1').update(text).digest('hex').slice(0, 12)}`;
          names.set(text, name);
        }
        return query({ name, text, values }, callback);
      }
    }
    return query(text, values, callback);
  }) as typeof client.query;
}
