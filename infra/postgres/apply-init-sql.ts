import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** The services' schemas. Fixed names: code and migrations refer to them; only the roles vary. */
export const SERVICE_SCHEMAS = ['registration', 'deal_tracking', 'notification', 'console'] as const;
export type ServiceSchema = (typeof SERVICE_SCHEMAS)[number];

export interface ServiceRole {
  /** Login role name; cluster-wide, so tests pass unique ones per run. At most 63 bytes. */
  role: string;
  password: string;
}

/** The login role of each service, keyed by the schema it owns. */
export type InitSqlVars = Record<ServiceSchema, ServiceRole>;

export const DEFAULT_ROLE_NAMES: Readonly<Record<ServiceSchema, string>> = Object.freeze({
  registration: 'registration_svc',
  deal_tracking: 'deal_tracking_svc',
  notification: 'notification_svc',
  console: 'console_svc',
});

export const INIT_SQL_PATH = fileURLToPath(new URL('./init.sql', import.meta.url));

// Postgres silently truncates longer names, so a client logging in with the full name would be refused.
const MAX_IDENTIFIER_BYTES = 63;

/** The psql variables init.sql expects (`-v registration_role=...`), from the per-service roles. */
export function psqlVariables(vars: InitSqlVars): Record<string, string> {
  const variables: Record<string, string> = {};
  const seen = new Set<string>();
  for (const schema of SERVICE_SCHEMAS) {
    const { role, password } = vars[schema];
    if (role === '' || Buffer.byteLength(role) > MAX_IDENTIFIER_BYTES) {
      throw new Error(
        `role name for ${schema} must be 1 to ${MAX_IDENTIFIER_BYTES} bytes, got ${JSON.stringify(role)}`,
      );
    }
    // Postgres turns an empty password into "no password", which would fail only later, at login.
    if (password === '') throw new Error(`password for ${schema} must not be empty`);
    // One role for two services would let each read the other's schema.
    if (seen.has(role)) throw new Error(`role ${JSON.stringify(role)} is given to more than one service`);
    seen.add(role);
    variables[`${schema}_role`] = role;
    variables[`${schema}_password`] = password;
  }
  return variables;
}

/** init.sql with its psql variables substituted, ready for a driver that knows no psql syntax. */
export function renderInitSql(
  vars: InitSqlVars,
  template: string = readFileSync(INIT_SQL_PATH, 'utf8'),
): string {
  return substitutePsqlVariables(template, psqlVariables(vars));
}

/**
 * Creates or updates the roles and schemas in the database `client` is connected to. The client must
 * be a superuser (or hold CREATEROLE and own the database).
 */
export async function applyInitSql(client: pg.ClientBase, vars: InitSqlVars): Promise<void> {
  const sql = renderInitSql(vars);
  try {
    await client.query(sql);
  } catch (error) {
    // A failure inside the file's BEGIN leaves the session in an aborted transaction; free it for the caller.
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

export function quoteIdentifier(value: string): string {
  assertNoNul(value);
  return `"${value.replaceAll('"', '""')}"`;
}

/** Same output as psql's `:'var'` (PQescapeLiteral): safe whatever `standard_conforming_strings` says. */
export function quoteLiteral(value: string): string {
  assertNoNul(value);
  const quoted = value.replaceAll("'", "''");
  return value.includes('\\') ? ` E'${quoted.replaceAll('\\', '\\\\')}'` : `'${quoted}'`;
}

function assertNoNul(value: string): void {
  if (value.includes('\0'))
    throw new Error('a Postgres identifier or literal cannot contain a NUL character');
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;
const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;

/**
 * Expands psql's `:'name'` (literal) and `:"name"` (identifier) the way psql does: not inside string
 * literals, quoted identifiers, dollar-quoted bodies or comments. Stricter than psql where psql would
 * silently send broken SQL: an unset variable, a bare `:name` of a known variable (psql would paste it
 * unquoted) and a backslash meta-command all throw.
 */
export function substitutePsqlVariables(sql: string, variables: Readonly<Record<string, string>>): string {
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    let end = -1;
    if (c === '-' && next === '-') {
      end = endOfLine(sql, i);
    } else if (c === '/' && next === '*') {
      end = endOfBlockComment(sql, i);
    } else if (c === "'") {
      const prev = sql[i - 1];
      const escapeString = (prev === 'E' || prev === 'e') && !IDENT_CHAR.test(sql[i - 2] ?? ' ');
      end = endOfQuoted(sql, i, "'", escapeString);
    } else if (c === '"') {
      end = endOfQuoted(sql, i, '"', false);
    } else if (c === '$' && !IDENT_CHAR.test(sql[i - 1] ?? ' ')) {
      const tag = DOLLAR_TAG.exec(sql.slice(i))?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        if (close === -1) throw new Error(`unterminated dollar-quoted string ${tag} at offset ${i}`);
        end = close + tag.length;
      }
    } else if (c === ':' && next === ':') {
      end = i + 2;
    } else if (c === ':' && (next === "'" || next === '"')) {
      const close = sql.indexOf(next, i + 2);
      const name = close === -1 ? '' : sql.slice(i + 2, close);
      if (NAME.exec(name)?.[0] === name) {
        const value = variables[name];
        if (value === undefined) throw new Error(`psql variable ${name} is not set`);
        out += next === "'" ? quoteLiteral(value) : quoteIdentifier(value);
        i = close + 1;
        continue;
      }
    } else if (c === ':') {
      const name = NAME.exec(sql.slice(i + 1))?.[0];
      if (name !== undefined && Object.hasOwn(variables, name)) {
        throw new Error(`unquoted psql variable :${name}: write :'${name}' or :"${name}"`);
      }
    } else if (c === '\\') {
      throw new Error(`psql meta-command at offset ${i}: only plain SQL can run through a driver`);
    }
    if (end === -1) end = i + 1;
    out += sql.slice(i, end);
    i = end;
  }
  return out;
}

function endOfLine(sql: string, from: number): number {
  const newline = sql.indexOf('\n', from);
  return newline === -1 ? sql.length : newline + 1;
}

// Postgres block comments nest.
function endOfBlockComment(sql: string, from: number): number {
  let depth = 0;
  for (let i = from; i < sql.length - 1; i++) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i++;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i++;
      if (depth === 0) return i + 1;
    }
  }
  throw new Error(`unterminated block comment at offset ${from}`);
}

// A doubled quote inside reads as closing and reopening, which skips the same text.
function endOfQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  for (let i = from + 1; i < sql.length; i++) {
    if (backslashEscapes && sql[i] === '\\') i++;
    else if (sql[i] === quote) return i + 1;
  }
  throw new Error(`unterminated ${quote === "'" ? 'string literal' : 'quoted identifier'} at offset ${from}`);
}
