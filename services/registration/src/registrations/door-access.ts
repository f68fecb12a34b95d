import { authenticateStaff, isHeldToday, looksLikeStaffToken, problems } from '@citydeals/service-kit';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ServiceContext } from '../context.ts';

/**
 * Admin, or a staff token with the `door` scope on a meeting held today (docs/console.md): the door may read
 * that meeting's attendees and check them in, nothing else and no other meeting. API keys go through `admin`.
 */
export function doorOrAdmin(
  ctx: ServiceContext,
  admin: onRequestAsyncHookHandler,
  meetingOf: (request: FastifyRequest) => Promise<string | undefined>,
) {
  return async function door(this: unknown, request: FastifyRequest, reply: FastifyReply) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!bearer || !looksLikeStaffToken(bearer)) return admin.call(request.server, request, reply);
    const staff = await authenticateStaff(request, bearer, 'door');
    if (staff.scopes.includes('admin')) return;
    const meetingId = await meetingOf(request);
    const meeting = meetingId
      ? await ctx.db
          .selectFrom('meeting')
          .select(['starts_at as startsAt', 'ends_at as endsAt', 'time_zone as timeZone'])
          .where('id', '=', meetingId)
          .executeTakeFirst()
      : undefined;
    if (!meeting || !isHeldToday(meeting, ctx.clock.now()))
      throw problems.forbidden('door (a meeting held today)');
  };
}

export const meetingOfParams = async (request: FastifyRequest) => (request.params as { id?: string }).id;

export function meetingOfRegistration(ctx: ServiceContext) {
  return async (request: FastifyRequest) => {
    const id = (request.params as { id?: string }).id;
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) return undefined;
    const row = await ctx.db
      .selectFrom('registration')
      .select('meeting_id')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.meeting_id;
  };
}
