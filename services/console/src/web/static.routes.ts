import type { Routes } from '../context.ts';
import { adminCss } from './admin-styles.ts';
import { consoleCss, consoleJs } from './assets.ts';

/** The CSS and the progressive-enhancement script, as files the CSP allows (`'self'`). */
export const staticRoutes: Routes = async (app) => {
  const files = {
    'console.css': { type: 'text/css; charset=utf-8', body: consoleCss + adminCss },
    'console.js': { type: 'text/javascript; charset=utf-8', body: consoleJs },
  };
  for (const [name, file] of Object.entries(files)) {
    app.get(`/static/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(file.type).header('cache-control', 'public, max-age=300').send(file.body),
    );
  }
};
