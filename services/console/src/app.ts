import type { ServicePlugin } from '@citydeals/service-kit';
import { loginRoutes } from './accounts/login.routes.ts';
import { BackendUnavailable } from './backends/services.client.ts';
import type { Config } from './config.ts';
import type { ServiceContext } from './context.ts';
import { dealRoutes } from './deals/deal.routes.ts';
import { deliveryRoutes } from './deliveries/delivery.routes.ts';
import { doorRoutes } from './door/door.routes.ts';
import { machineKeyRoutes } from './keys/machine-key.routes.ts';
import { mailTextRoutes } from './mail-texts/mail-texts.routes.ts';
import { meetingRoutes } from './meetings/meeting.routes.ts';
import { questionRoutes } from './meetings/question.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { overviewRoutes } from './overview/overview.routes.ts';
import { peopleRoutes } from './people/people.routes.ts';
import { attendanceRoutes } from './reports/attendance.routes.ts';
import { pageContext, sessionPlugin } from './sessions/session.plugin.ts';
import { ssoRoutes } from './sso/sso.routes.ts';
import { html } from './web/html.ts';
import { layout } from './web/layout.ts';
import { staticRoutes } from './web/static.routes.ts';

/**
 * The console's pages as a fastify plugin. The session plugin decorates each request with the person and the
 * language; each feature then registers its routes, each route declaring its guard. The console consumes no
 * events and runs no workers: its features are routes only.
 */
export const app: ServicePlugin<{ ctx: ServiceContext; config: Config }> = async (fastify, options) => {
  await fastify.register(sessionPlugin, { ctx: options.ctx });
  fastify.setErrorHandler((error, request, reply) => {
    if (!(error instanceof BackendUnavailable)) throw error;
    request.log.warn({ backend: error.backend }, 'service unavailable');
    const page = pageContext(request);
    return reply
      .status(503)
      .type('text/html; charset=utf-8')
      .send(layout(page, page.t.forbiddenTitle, html`<p role="alert">${page.t.serviceDown}</p>`));
  });
  for (const routes of [
    staticRoutes,
    loginRoutes,
    overviewRoutes,
    dealRoutes,
    doorRoutes,
    deliveryRoutes,
    peopleRoutes,
    machineKeyRoutes,
    ssoRoutes,
    meetingRoutes,
    questionRoutes,
    mailTextRoutes,
    messageRoutes,
    attendanceRoutes,
  ]) {
    await fastify.register(routes, options);
  }
};
