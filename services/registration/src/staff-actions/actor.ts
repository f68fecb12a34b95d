import type { Actor } from '@citydeals/contracts';
import type { FastifyRequest } from 'fastify';

/** The person (through the console's staff token) or the API key that made an admin call. */
export function actorOf(request: FastifyRequest): Actor {
  const { staff } = request;
  if (staff) return { type: 'user', id: `staff:${staff.id}`, name: `${staff.name} <${staff.email}>` };
  const id = request.actor ?? 'api-key:unknown';
  return { type: 'api_key', id, name: id.replace(/^api-key:/, '') };
}
