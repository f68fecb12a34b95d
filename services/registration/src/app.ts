import { type Feature, featureRoutes, intervalWorker } from '@citydeals/service-kit';
import { BUDGET_WINDOW_MS, sweepBudgets } from './abuse/budget.repository.ts';
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
import { dealProjectionConsumer } from './consumers/deal-projection.consumer.ts';
import { erasurePurgeConsumer } from './consumers/erasure-purge.consumer.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { dealRoutes } from './deals/deal.routes.ts';
import { meetingFeedRoutes } from './feed/meeting-feed.routes.ts';
import { meetingFeedWorkers } from './feed/meeting-feed.worker.ts';
import { meetingRoutes } from './meetings/meeting.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { sweepMessages } from './messages/message.service.ts';
import { offerRoutes } from './offers/offer.routes.ts';
import { expireDueOffers } from './offers/offer.service.ts';
import { pageRoutes } from './pages/page.routes.ts';
import { erasureRoutes } from './privacy/erasure.routes.ts';
import { eraseExpired } from './privacy/erasure.service.ts';
import { questionRoutes } from './questions/questions.routes.ts';
import { registrationRoutes } from './registrations/registration.routes.ts';
import { registrationAdminRoutes } from './registrations/registration-admin.routes.ts';
import { reportRoutes } from './reports/report.routes.ts';
import { seatRoutes } from './seats/seat.routes.ts';
import { sessionRoutes } from './sessions/session.routes.ts';
import { staffActionRoutes } from './staff-actions/staff-action.routes.ts';
import { surveyRoutes } from './survey/survey.routes.ts';
import { sweepSurveys } from './survey/survey.service.ts';

/** The service, feature by feature: each brings its routes, consumers and workers. */
export const features: readonly Feature<Database, ServiceContext, Config>[] = [
  // First: it records the admin changes of all the features after it.
  { name: 'staff actions', routes: staffActionRoutes },
  { name: 'meetings', routes: meetingRoutes },
  { name: 'consequences', routes: consequenceRoutes },
  { name: 'admissions', routes: admissionRoutes },
  { name: 'check-ins', routes: checkInRoutes },
  { name: 'attendee changes', routes: attendeeChangeRoutes },
  { name: 'seats', routes: seatRoutes },
  {
    name: 'waitlist offers',
    routes: offerRoutes,
    // An offer not taken in time passes its seat to the next in line within this interval.
    workers: ({ ctx, config, runtime }) => [
      intervalWorker({
        name: 'offer sweep',
        intervalMs: config.OFFER_SWEEP_MS,
        logger: runtime.logger,
        run: async () => {
          const expired = await expireDueOffers(ctx);
          if (expired > 0) runtime.logger.info({ expired }, 'waitlist offers expired and passed on');
        },
      }),
    ],
  },
  { name: 'registrations', routes: registrationRoutes },
  { name: 'questions', routes: questionRoutes },
  { name: 'sessions', routes: sessionRoutes },
  {
    name: 'address confirmation',
    routes: addressConfirmationRoutes,
    // Expired confirmation requests hold nothing anyone needs.
    workers: ({ ctx, runtime }) => [
      intervalWorker({
        name: 'confirmation sweep',
        intervalMs: BUDGET_WINDOW_MS / 4,
        logger: runtime.logger,
        run: async () => {
          const swept = await sweepExpiredConfirmations(ctx);
          if (swept > 0) runtime.logger.info({ swept }, 'expired address confirmations forgotten');
        },
      }),
    ],
  },
  { name: 'registrations (admin)', routes: registrationAdminRoutes },
  { name: 'reports', routes: reportRoutes },
  {
    name: 'survey',
    routes: surveyRoutes,
    // Meetings that ended get their feedback survey.
    workers: ({ ctx, runtime }) => [
      intervalWorker({
        name: 'survey sweep',
        intervalMs: BUDGET_WINDOW_MS / 4,
        logger: runtime.logger,
        run: async () => {
          const sent = await sweepSurveys(ctx);
          if (sent > 0) runtime.logger.info({ meetings: sent }, 'feedback surveys sent');
        },
      }),
    ],
  },
  {
    name: 'messages',
    routes: messageRoutes,
    // Scheduled messages to attendees go out within this interval of their time.
    workers: ({ ctx, config, runtime }) => [
      intervalWorker({
        name: 'message sweep',
        intervalMs: config.MESSAGE_SWEEP_MS,
        logger: runtime.logger,
        run: async () => {
          const sent = await sweepMessages(ctx);
          if (sent > 0) runtime.logger.info({ messages: sent }, 'scheduled messages sent');
        },
      }),
    ],
  },
  { name: 'attendee list', routes: attendeeListRoutes },
  { name: 'badges', routes: badgeRoutes },
  { name: 'calendar', routes: calendarRoutes },
  { name: 'deals', routes: dealRoutes, consumers: () => [dealProjectionConsumer] },
  { name: 'meeting feed', routes: meetingFeedRoutes, workers: meetingFeedWorkers },
  {
    name: 'privacy',
    routes: erasureRoutes,
    consumers: ({ runtime }) => [erasurePurgeConsumer(runtime)],
    workers: ({ ctx, config, runtime }) =>
      config.RETENTION_MONTHS > 0
        ? [
            intervalWorker({
              name: 'retention sweep',
              intervalMs: config.RETENTION_INTERVAL_MS,
              logger: runtime.logger,
              run: async () => {
                const erased = await eraseExpired(ctx, config.RETENTION_MONTHS);
                if (erased > 0) runtime.logger.info({ erased }, 'retention: registrations anonymised');
              },
            }),
          ]
        : [],
  },
  {
    name: 'pages',
    routes: pageRoutes,
    // Budget windows that are over hold nothing a later request needs.
    workers: ({ ctx, runtime }) => [
      intervalWorker({
        name: 'budget sweep',
        intervalMs: BUDGET_WINDOW_MS / 4,
        logger: runtime.logger,
        run: () => sweepBudgets(ctx.db, ctx.clock.now()),
      }),
    ],
  },
];

/** The service's HTTP API as a fastify plugin: every feature's routes, given the context and config. */
export const app = featureRoutes(features);
