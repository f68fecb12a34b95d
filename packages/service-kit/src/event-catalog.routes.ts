import {
  buildAsyncApiDocument,
  type EventDefinition,
  eventCatalog,
  eventPayloadJsonSchema,
} from '@citydeals/contracts';
import type { ServicePlugin } from './http-server.ts';

/**
 * Every service serves the whole event catalogue: a reader of any service's docs finds every event,
 * who publishes it and its schema, without hunting for the right service.
 */
export const eventCatalogRoutes: ServicePlugin = async (app) => {
  let document: unknown;
  app.get(
    '/asyncapi.json',
    { schema: { tags: ['operations'], summary: 'AsyncAPI 3.0 document of every event in the system' } },
    async () => {
      document ??= buildAsyncApiDocument();
      return document;
    },
  );
  let page: string | undefined;
  app.get(
    '/events',
    { schema: { tags: ['operations'], summary: 'The event catalogue as a page' } },
    async (_req, reply) => {
      page ??= renderCatalogPage(eventCatalog);
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );
};

/** The page's one inline block; its hash is in the content security policy of every service. */
export const CATALOG_STYLE =
  'body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}pre{background:#f4f4f4;padding:1rem;overflow:auto}h2{font-size:1.1rem;margin-top:2rem}';

function renderCatalogPage(events: readonly EventDefinition[]): string {
  const rows = events
    .map(
      (e) => `<section id="${escapeHtml(e.subject)}">
  <h2><code>${escapeHtml(e.subject)}</code></h2>
  <p>${escapeHtml(e.description)}</p>
  <p>Type <code>${escapeHtml(e.type)}</code> · stream <code>${escapeHtml(e.stream.name)}</code></p>
  <details><summary>JSON Schema of the event</summary><pre>${escapeHtml(JSON.stringify(eventPayloadJsonSchema(e), null, 2))}</pre></details>
  <details><summary>Example data</summary><pre>${escapeHtml(JSON.stringify(e.example, null, 2))}</pre></details>
</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>City Deals events</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>${CATALOG_STYLE}</style>
</head><body>
<h1>Event catalogue</h1>
<p>Every event is a CloudEvents 1.0 envelope (<code>specversion, id, source, type, subject, time, data</code>);
events about an entity carry its <code>version</code>. Machine-readable: <a href="/asyncapi.json">/asyncapi.json</a>.</p>
<ul>${events.map((e) => `<li><a href="#${escapeHtml(e.subject)}"><code>${escapeHtml(e.subject)}</code></a></li>`).join('')}</ul>
${rows}
</body></html>`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}
