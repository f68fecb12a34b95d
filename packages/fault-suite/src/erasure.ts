import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
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

/**
 * Messages (stream#sequence subject) of every JetStream stream of the system's namespace that hold any of
 * `needles`: every message still stored is read back, case-insensitively, also URL-encoded. Purged and
 * deleted sequences are skipped, as a reader of the stream would find them gone.
 */
export async function streamOccurrences(system: System, needles: readonly string[]): Promise<string[]> {
  const wanted = needles.flatMap((n) => [n.toLowerCase(), encodeURIComponent(n).toLowerCase()]);
  const nc = await connect({ servers: system.natsUrl, name: 'fault-suite-stream-reader' });
  try {
    const jsm = await jetstreamManager(nc);
    const found: string[] = [];
    for await (const stream of jsm.streams.list()) {
      const name = stream.config.name;
      if (!name.startsWith(`${system.namespace}_`)) continue;
      const { first_seq: first, last_seq: last } = (await jsm.streams.info(name)).state;
      for (let seq = first; seq <= last && last > 0; seq++) {
        const message = await jsm.streams.getMessage(name, { seq }).catch(() => null);
        if (!message) continue;
        const text = message.string().toLowerCase();
        if (wanted.some((needle) => text.includes(needle))) found.push(`${name}#${seq} ${message.subject}`);
      }
    }
    return found;
  } finally {
    await nc.close();
  }
}
