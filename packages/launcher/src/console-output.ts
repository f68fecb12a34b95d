import { relative } from 'node:path';
import { publicBaseUrl, type ServiceDefinition } from './services.ts';

// What a person sees: short progress lines, then one summary. Errors go to stderr.

export function seconds(sinceMs: number): string {
  return `${((performance.now() - sinceMs) / 1000).toFixed(1)} s`;
}

export function done(text: string, sinceMs: number): void {
  process.stdout.write(`✓ ${text} — ${seconds(sinceMs)}\n`);
}

export function info(text: string): void {
  process.stdout.write(`  ${text}\n`);
}

export function warn(text: string): void {
  process.stdout.write(`! ${text}\n`);
}

export function failed(text: string): void {
  process.stderr.write(`✗ ${text}\n`);
}

/** A folder as a person would type it: relative to where they are when it is inside, else absolute. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}

const NAME_WIDTH = Math.max('deal-tracking'.length, 'nats-server'.length);

/** Prints a child's output, each line prefixed with its name, so three services stay apart. */
export function childPrinter(name: string): (line: string) => void {
  const prefix = `${name.padEnd(NAME_WIDTH)} │ `;
  return (line) => process.stdout.write(`${prefix}${line}\n`);
}

export interface SummaryInput {
  services: readonly { definition: ServiceDefinition; port: number }[];
  mail: { dir: string } | { smtp: string };
  adminKey: { key: string; source: 'env' | 'created' | 'reused'; file?: string };
  /** The console's first beheerder; absent when no console runs. */
  consoleAdmin?: { email: string; password?: string; source: 'created' | 'reused'; file: string };
  startedInMs: number;
}

export function summary(input: SummaryInput): string {
  const rows = input.services.map(({ definition, port }) => {
    const url = publicBaseUrl(port);
    return `  ${definition.title.padEnd(15)} ${url.padEnd(23)} docs: ${url}/docs`;
  });
  const first = input.services[0] ? publicBaseUrl(input.services[0].port) : 'http://127.0.0.1:3001';
  const { key, source, file } = input.adminKey;
  const shownKey = source === 'env' ? `${key.slice(0, 8)}… (from ADMIN_API_KEY)` : key;
  const keyNote =
    source === 'env'
      ? ''
      : `  (development key, ${source === 'created' ? 'new, ' : ''}kept in ${displayPath(file ?? '')})`;
  const curlKey = source === 'env' ? '$ADMIN_API_KEY' : key;
  const mail =
    'dir' in input.mail
      ? `${displayPath(input.mail.dir)}  (every mail the system sends lands here as an .eml file)`
      : `sent through ${redact(input.mail.smtp)}`;
  const admin = input.consoleAdmin;
  const consoleLogin = admin
    ? [
        `  ${'Console login'.padEnd(15)} ${admin.email} / ${admin.password ?? '(made elsewhere; not known here)'}` +
          (admin.password
            ? `  (${admin.source === 'created' ? 'new, ' : ''}kept in ${displayPath(admin.file)})`
            : ''),
      ]
    : [];
  return [
    '',
    `City Deals is running (ready in ${(input.startedInMs / 1000).toFixed(1)} s). Press Ctrl-C to stop.`,
    '',
    ...rows,
    `  ${'API documents'.padEnd(15)} <service URL>/openapi.json`,
    `  ${'Mail folder'.padEnd(15)} ${mail}`,
    `  ${'Admin key'.padEnd(15)} ${shownKey}${keyNote}`,
    ...consoleLogin,
    '',
    '  Try an admin call (lists events a service could not process; empty is good):',
    `    curl -H "Authorization: Bearer ${curlKey}" ${first}/admin/dead-letters`,
    '',
  ].join('\n');
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    u.password = u.password ? '***' : '';
    return u.toString();
  } catch {
    return '(SMTP_URL)';
  }
}
