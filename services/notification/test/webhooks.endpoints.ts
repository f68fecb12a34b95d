import { adminHeaders } from '@citydeals/testkit';
import type { FastifyInstance } from 'fastify';

/** Registers webhook endpoints through the admin API of the service under test, as an operator would. */
export function endpointCreator(http: Pick<FastifyInstance, 'inject'>) {
  return async (body: Record<string, unknown>) => {
    const res = await http.inject({
      method: 'POST',
      url: '/webhooks/endpoints',
      headers: adminHeaders,
      payload: body,
    });
    if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
    return res.json() as { id: string; secret: string; status: string };
  };
}
