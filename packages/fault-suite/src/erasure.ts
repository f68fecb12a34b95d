import { type System, serviceKeys } from './system.ts';

/**
 * Tables (schema.table) of the three schemas in which any column holds the address: every row is read
 * as text (so text, json, arrays and composite columns are all searched), case-insensitively, also in its
 * URL-encoded spelling.
 */
export async function addressOccurrences(system: System, address: string): Promise<string[]> {
  const tables = await system.query<{ s: string; t: string }>(
    `select table_schema as s, table_name as t from information_schema.tables
      where table_schema = any($1) and table_type = 'BASE TABLE' order by 1, 2`,
    [serviceKeys],
  );
  const needles = [address.toLowerCase(), encodeURIComponent(address).toLowerCase()];
  const found: string[] = [];
  for (const { s, t } of tables) {
    const rows = await system.query<{ n: number }>(
      `select count(*)::int as n from "${s}"."${t}" x
        where strpos(lower(x::text), $1) > 0 or strpos(lower(x::text), $2) > 0`,
      needles,
    );
    if (rows[0]!.n > 0) found.push(`${s}.${t} (${rows[0]!.n} rows)`);
  }
  return found;
}
