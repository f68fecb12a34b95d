import type { FastifyReply } from 'fastify';
import { html } from './html.ts';
import { layout, type PageContext } from './layout.ts';

/** A service's refusal or absence as a page: its 403/404 pass through, anything else is a 502. */
export function backendFailure(reply: FastifyReply, page: PageContext, status: number) {
  const { t } = page;
  const shown = status === 401 || status === 403 ? 403 : status === 404 ? 404 : 502;
  const text = shown === 403 ? t.forbidden : shown === 404 ? 'Niet gevonden / Not found' : t.serviceDown;
  return reply
    .status(shown)
    .type('text/html; charset=utf-8')
    .send(layout(page, shown === 403 ? t.forbiddenTitle : String(shown), html`<p role="alert">${text}</p>`));
}
