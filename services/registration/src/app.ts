import { newEventId, requireScope, type ServiceRuntime, systemClock } from '@citydeals/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import { badgeRoutes } from './badges/badge.routes.ts';
import { calendarRoutes } from './calendar/calendar.routes.ts';
import type { Config } from './config.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { dealRoutes } from './deals/deal.routes.ts';
import { seedDemoMeeting } from './demo/demo-meeting.ts';
import { meetingRoutes } from './meetings/meeting.routes.ts';
import { pageRoutes } from './pages/page.routes.ts';
import { erasureRoutes } from './privacy/erasure.routes.ts';
import { eraseExpired } from './privacy/erasure.service.ts';
import { registrationRoutes } from './registrations/registration.routes.ts';
import { registrationAdminRoutes } from './registrations/registration-admin.routes.ts';
import { reportRoutes } from './reports/report.routes.ts';

export interface AppOptions {
  runtime: ServiceRuntime<Database>;
  config: Config;
  /** Tests pass a fixed clock; the service uses the system clock. */
  clock?: ServiceContext['clock'];
}

/** The service's HTTP API as a fastify plugin; feature folders register their routes here. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, { runtime, config, clock }) => {
  const ctx: ServiceContext = {
    db: runtime.db,
    clock: clock ?? systemClock,
    newId: newEventId,
    publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/+$/, ''),
  };
  const admin = requireScope('admin');

  meetingRoutes(fastify, { ctx, admin });
  registrationRoutes(fastify, { ctx });
  registrationAdminRoutes(fastify, { ctx, admin });
  reportRoutes(fastify, { ctx, admin });
  badgeRoutes(fastify, { ctx, admin });
  calendarRoutes(fastify, { ctx });
  dealRoutes(fastify, { ctx });
  erasureRoutes(fastify, { ctx, admin });
  pageRoutes(fastify, { ctx });

  if (config.SEED_DEMO_DATA) {
    const outcome = await seedDemoMeeting(ctx);
    runtime.logger.info({ outcome }, 'demo meeting');
  }

  if (config.RETENTION_MONTHS > 0) {
    const sweep = () =>
      eraseExpired(ctx, config.RETENTION_MONTHS).then(
        (erased) => erased > 0 && runtime.logger.info({ erased }, 'retention: registrations anonymised'),
        (err) => runtime.logger.error({ err }, 'retention sweep failed; retrying next interval'),
      );
    const timer = setInterval(sweep, config.RETENTION_INTERVAL_MS);
    timer.unref();
    fastify.addHook('onClose', async () => clearInterval(timer));
  }
};
