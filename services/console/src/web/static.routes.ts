import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

const STATIC_DIR = new URL('../../static/', import.meta.url);

/** Two small files, read once at start: the CSS and the progressive-enhancement script the CSP allows. */
export function staticRoutes(app: FastifyInstance) {
  const files = {
    'console.css': {
      type: 'text/css; charset=utf-8',
      body: readFileSync(new URL('console.css', STATIC_DIR)),
    },
    'console.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(new URL('console.js', STATIC_DIR)),
    },
  };
  for (const [name, file] of Object.entries(files)) {
    app.get(`/static/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(file.type).header('cache-control', 'public, max-age=300').send(file.body),
    );
  }
}
