import { readFileSync } from 'node:fs';
import type { Routes } from '../context.ts';
import { boardCss } from '../deals/deal-board.views.ts';
import { meetingDetailsCss } from '../meetings/meeting-details.views.ts';
import { messageCss } from '../messages/message.views.ts';
import { adminCss } from './admin-styles.ts';
import { consoleCss, consoleJs } from './assets.ts';

/**
 * The QR decoder the door's scanner loads where the browser has no BarcodeDetector: jsQR's browser build
 * from the installed package, served from the console itself, as the CSP (`script-src 'self'`) requires.
 */
const jsQr = () => readFileSync(new URL(import.meta.resolve('jsqr/dist/jsQR.js')), 'utf8');

/** The CSS, the progressive-enhancement script and the QR decoder, as files the CSP allows (`'self'`). */
export const staticRoutes: Routes = async (app) => {
  const files = {
    'console.css': {
      type: 'text/css; charset=utf-8',
      body: consoleCss + adminCss + boardCss + meetingDetailsCss + messageCss,
    },
    'console.js': { type: 'text/javascript; charset=utf-8', body: consoleJs },
    'jsqr.js': { type: 'text/javascript; charset=utf-8', body: jsQr() },
  };
  for (const [name, file] of Object.entries(files)) {
    app.get(`/static/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(file.type).header('cache-control', 'public, max-age=300').send(file.body),
    );
  }
};
