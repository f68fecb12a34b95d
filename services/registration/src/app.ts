import { randomBytes } from 'node:crypto';
import { newEventId, requireScope, type ServiceRuntime, systemClock } from '@citydeals/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import { BUDGET_WINDOW_MS, sweepBudgets } from './abuse/budget.repository.ts';
import { ProofOfWork } from './abuse/proof-of-work.ts';
import { addressConfirmationRoutes } from './address-confirmation/address-confirmation.routes.ts';
import { sweepExpiredConfirmations } from './address-confirmation/address-confirmation.service.ts';
import { admissionRoutes } from './admissions/admission.routes.ts';
import { attendeeChangeRoutes } from './attendee-changes/attendee-change.routes.ts';
import { attendeeListRoutes } from './attendee-list/attendee-list.routes.ts';
import { badgeRoutes } from './badges/badge.routes.ts';
import { calendarRoutes } from './calendar/calendar.routes.ts';
import { checkInRoutes } from './check-ins/check-in.routes.ts';
import type { Config } from './config.ts';
import { consequenceRoutes } from './consequences/consequence.routes.ts';
import { createServiceContext, type ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { dealRoutes } from './deals/deal.routes.ts';
import { seedDemoMeeting } from './demo/demo-meeting.ts';
import { meetingFeedRoutes } from './feed/meeting-feed.routes.ts';
import { meetingRoutes } from './meetings/meeting.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { sweepMessages } from './messages/message.service.ts';
import { type FormProtection, pageRoutes } from './pages/page.routes.ts';
import { erasureRoutes } from './privacy/erasure.routes.ts';
import { eraseExpired } from './privacy/erasure.service.ts';
import { registrationRoutes } from './registrations/registration.routes.ts';
import { registrationAdminRoutes } from './registrations/registration-admin.routes.ts';
import { reportRoutes } from './reports/report.routes.ts';
import { seatRoutes } from './seats/seat.routes.ts';
import { staffActionRoutes } from './staff-actions/staff-action.routes.ts';
import { surveyRoutes } from './survey/survey.routes.ts';
import { sweepSurveys } from './survey/survey.service.ts';

export interface AppOptions {
  runtime: ServiceRuntime<Database>;
  config: Config;
  /** Tests pass a fixed clock; the service uses the system clock. */
  clock?: ServiceContext['clock'];
}

/** The service's HTTP API as a fastify plugin; feature folders register their routes here. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, { runtime, config, clock }) => {
  const ctx = createServiceContext({
    db: runtime.db,
    clock: clock ?? systemClock,
    newId: newEventId,
    publicBaseUrl: config.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    limits: {
      registrationsPerClientPerHour: config.REGISTRATIONS_PER_CLIENT_PER_HOUR,
      registrationsPerAddressPerHour: config.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
      linkMailsPerAddressPerHour: config.LINK_MAILS_PER_ADDRESS_PER_HOUR,
      linkRequestsPerClientPerHour: config.LINK_REQUESTS_PER_CLIENT_PER_HOUR,
      waitlistLimit: config.WAITLIST_LIMIT,
    },
  });
  const formSecret = config.FORM_SECRET ?? randomBytes(32).toString('base64url');
  const forms: FormProtection = {
    secret: formSecret,
    secureCookie: ctx.publicBaseUrl.startsWith('https:'),
    proofOfWork: config.REGISTRATION_PROOF_OF_WORK
      ? new ProofOfWork({
          secret: formSecret,
          cost: config.PROOF_OF_WORK_COST,
          maxCounter: config.PROOF_OF_WORK_MAX_COUNTER,
        })
      : null,
  };
  const admin = requireScope('admin');

  staffActionRoutes(fastify, { ctx, admin });
  meetingRoutes(fastify, { ctx, admin });
  consequenceRoutes(fastify, { ctx, admin });
  admissionRoutes(fastify, { ctx, admin });
  checkInRoutes(fastify, { ctx, admin });
  attendeeChangeRoutes(fastify, { ctx, admin });
  seatRoutes(fastify, { ctx, admin });
  registrationRoutes(fastify, { ctx });
  addressConfirmationRoutes(fastify, { ctx });
  registrationAdminRoutes(fastify, { ctx, admin });
  reportRoutes(fastify, { ctx, admin });
  surveyRoutes(fastify, { ctx, admin });
  messageRoutes(fastify, { ctx, admin });
  attendeeListRoutes(fastify, { ctx });
  badgeRoutes(fastify, { ctx, admin });
  calendarRoutes(fastify, { ctx });
  dealRoutes(fastify, { ctx });
  meetingFeedRoutes(fastify, { ctx });
  erasureRoutes(fastify, { ctx, admin, digestKey: config.PERSON_DIGEST_KEY });
  pageRoutes(fastify, { ctx, forms });

  // Budget windows that are over hold nothing a later request needs; nor do expired confirmation requests.
  // Meetings that ended get their feedback survey on the same beat.
  const budgetSweep = setInterval(() => {
    sweepBudgets(ctx.db, ctx.clock.now()).catch((err) =>
      runtime.logger.error({ err }, 'budget sweep failed; retrying next interval'),
    );
    sweepExpiredConfirmations(ctx).then(
      (swept) => swept > 0 && runtime.logger.info({ swept }, 'expired address confirmations forgotten'),
      (err) => runtime.logger.error({ err }, 'confirmation sweep failed; retrying next interval'),
    );
    sweepSurveys(ctx).then(
      (sent) => sent > 0 && runtime.logger.info({ meetings: sent }, 'feedback surveys sent'),
      (err) => runtime.logger.error({ err }, 'survey sweep failed; retrying next interval'),
    );
  }, BUDGET_WINDOW_MS / 4);
  budgetSweep.unref();
  fastify.addHook('onClose', async () => clearInterval(budgetSweep));

  // Scheduled messages to attendees go out within this interval of their time.
  const messageSweep = setInterval(() => {
    sweepMessages(ctx).then(
      (sent) => sent > 0 && runtime.logger.info({ messages: sent }, 'scheduled messages sent'),
      (err) => runtime.logger.error({ err }, 'message sweep failed; retrying next interval'),
    );
  }, config.MESSAGE_SWEEP_MS);
  messageSweep.unref();
  fastify.addHook('onClose', async () => clearInterval(messageSweep));

  if (!config.PERSON_DIGEST_KEY) {
    runtime.logger.warn(
      'PERSON_DIGEST_KEY is not set: erasure announcements name people by an unkeyed digest of their address',
    );
  }

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
