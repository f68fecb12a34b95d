import type { Routes } from '../context.ts';
import { meetingTexts } from '../meetings/meeting.texts.ts';
import { guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import { html } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { type AttendanceReport, attendanceChart } from './attendance.views.ts';

/** Registration's attendance report (per deal across meetings) as a picture; the CSV stays in registration. */
export const attendanceRoutes: Routes = async (app, { ctx }) => {
  app.get(
    '/reports/attendance',
    { schema: { hide: true }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const page = pageContext(request);
      const mt = meetingTexts(page.lang);
      const answer = await ctx.services.call<AttendanceReport>(
        staffOf(request),
        'registration',
        'GET',
        '/admin/reports/attendance',
      );
      if (answer.status !== 200) return backendFailure(reply, page, answer.status);
      const body = html`${attendanceChart(mt, answer.body)}`;
      return reply.type('text/html; charset=utf-8').send(layout(page, mt.attendancePerDeal, body));
    },
  );
};
