import { System } from '@citydeals/fault-suite';
import { type ClientServiceKey, clientServices } from './generate.ts';

/** The OpenAPI document of each service, as it publishes it when running. */
export async function openApiDocumentsOf(system: System): Promise<Record<ClientServiceKey, unknown>> {
  const documents: Partial<Record<ClientServiceKey, unknown>> = {};
  for (const { key } of clientServices) {
    const answer = await system.call(key, 'GET', '/openapi.json');
    if (answer.status !== 200) throw new Error(`${key}: GET /openapi.json answered ${answer.status}`);
    documents[key] = answer.body;
  }
  return documents as Record<ClientServiceKey, unknown>;
}

/** The same from the three services started on a scratch database and event namespace, then stopped. */
export async function fetchOpenApiDocuments(): Promise<Record<ClientServiceKey, unknown>> {
  const system = await System.start();
  try {
    return await openApiDocumentsOf(system);
  } finally {
    await system.close();
  }
}
