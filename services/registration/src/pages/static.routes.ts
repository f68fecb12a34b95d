import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { PAGES_CSS } from './page.views.ts';

/**
 * The pages' own script: loads the ALTCHA widget (its "external" build, which carries no inline styles or
 * workers, so a strict Content-Security-Policy fits), Dutch texts for it, and the PBKDF2 worker that does the
 * proof of work. Everything is served by this service: the form talks to no third party.
 */
const PAGES_JS = `import '/static/altcha/altcha.js';
import '/static/altcha/nl.js';
globalThis.$altcha.algorithms.set('PBKDF2/SHA-256', () => new Worker('/static/altcha/pbkdf2.worker.js'));
`;

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

/** Files of the altcha package, read once at start (the package is a dependency of this service). */
async function altchaFiles() {
  const dist = path.resolve(path.dirname(fileURLToPath(import.meta.resolve('altcha'))), '..');
  const read = (file: string) => readFile(path.join(dist, file), 'utf8');
  return {
    'altcha.js': { type: JS, body: await read('external/altcha.min.js') },
    'altcha.css': { type: CSS, body: await read('external/altcha.css') },
    'nl.js': { type: JS, body: await read('i18n/nl.js') },
    'pbkdf2.worker.js': { type: JS, body: await read('workers/pbkdf2.js') },
  };
}

export async function staticRoutes(fastify: FastifyInstance) {
  const files: Record<string, { type: string; body: string }> = {
    'pages.css': { type: CSS, body: PAGES_CSS },
    'pages.js': { type: JS, body: PAGES_JS },
  };
  for (const [name, file] of Object.entries(await altchaFiles())) files[`altcha/${name}`] = file;
  for (const [name, file] of Object.entries(files)) {
    fastify.get(`/static/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(file.type).header('cache-control', 'public, max-age=3600').send(file.body),
    );
  }
}
