import { z } from 'zod';
import type { Routes } from '../context.ts';
import {
  actorOf,
  authenticated,
  changeRequestOf,
  ifMatchHeaders,
  illegalTransition409,
  problems404,
  readResponses,
  withIsoTimes,
  writeResponses,
} from '../http/request.ts';
import { etagOf } from './deal.rules.ts';
import {
  createDealBody,
  dealDetailSchema,
  dealIdParams,
  dealListSchema,
  dealSchema,
  editDealBody,
  extensionBody,
  listDealsQuery,
  trancheBody,
  transitionBody,
} from './deal.schemas.ts';
import {
  createDeal,
  editDeal,
  extendTerm,
  getDealDetail,
  listDealsPage,
  startTranche,
  transitionDeal,
  withOverdue,
} from './deal.service.ts';

const security = [{ adminKey: [] }];

export const dealRoutes: Routes = async (app, { ctx }) => {
  const admin = authenticated(app, 'admin');
  const read = authenticated(app, 'read');
  const dealResponse = (deal: Parameters<typeof withOverdue>[1]) => withIsoTimes(withOverdue(ctx, deal));

  app.get(
    '/deals',
    {
      ...read,
      schema: {
        tags: ['deals'],
        summary: 'List deals',
        description:
          'All City Deals and Town Deals, by name, with filters. `overdue` flags active deals whose term has ' +
          'passed without completion or extension. Needs a key with the `read` (or `admin`) scope.',
        security,
        querystring: listDealsQuery,
        response: { 200: dealListSchema, ...readResponses },
      },
    },
    async (request) => {
      const { phase, ...rest } = request.query;
      const page = await listDealsPage(ctx, {
        ...rest,
        phase: phase === undefined ? undefined : [phase].flat(),
      });
      return withIsoTimes(page);
    },
  );

  app.get(
    '/deals/:id',
    {
      ...read,
      schema: {
        tags: ['deals'],
        summary: 'Get a deal by id or slug',
        description:
          'The deal with its people, partners, results, lessons, cross-links, extensions and tranches. The ETag ' +
          'is its version, for If-Match on the next change.',
        security,
        params: z.object({
          id: z
            .string()
            .min(1)
            .max(120)
            .describe('Deal id, or its slug')
            .meta({ example: 'ruimte-voor-lopen' }),
        }),
        response: { 200: dealDetailSchema, ...readResponses, 404: problems404 },
      },
    },
    async (request, reply) => {
      const detail = await getDealDetail(ctx, request.params.id);
      reply.header('etag', etagOf(detail.version));
      return withIsoTimes(detail);
    },
  );

  app.post(
    '/deals',
    {
      ...admin,
      schema: {
        tags: ['deals'],
        summary: 'Create a deal',
        description:
          'A new deal starts in `preparing` (exploration). Publishes `deal_tracking.deal.created`.',
        security,
        body: createDealBody,
        response: { 201: dealSchema, ...writeResponses },
      },
    },
    async (request, reply) => {
      const deal = await createDeal(ctx, request.body, actorOf(request));
      reply.status(201).header('location', `/deals/${deal.id}`).header('etag', etagOf(deal.version));
      return dealResponse(deal);
    },
  );

  app.patch(
    '/deals/:id',
    {
      ...admin,
      schema: {
        tags: ['deals'],
        summary: 'Edit a deal',
        description:
          'Changes the given fields. Publishes `deal_tracking.deal.updated` with the changed fields; an edit ' +
          'that changes nothing answers the deal as it is, with no new version and no event.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: editDealBody,
        response: { 200: dealSchema, ...writeResponses },
      },
    },
    async (request, reply) => {
      const deal = await editDeal(ctx, changeRequestOf(request, request.params.id), request.body);
      reply.header('etag', etagOf(deal.version));
      return dealResponse(deal);
    },
  );

  app.post(
    '/deals/:id/transitions',
    {
      ...admin,
      schema: {
        tags: ['phases and term'],
        summary: 'Move a deal to another phase',
        description:
          'preparing → signed → building → delivering → securing → completed, or discontinued from any active ' +
          'phase. An illegal move is answered 409 `illegal-transition` with `allowedPhases`. Publishes ' +
          '`deal_tracking.deal.phase_changed`; the history keeps who, when and why.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: transitionBody,
        response: { 200: dealSchema, ...writeResponses, 409: illegalTransition409 },
      },
    },
    async (request, reply) => {
      const deal = await transitionDeal(ctx, changeRequestOf(request, request.params.id), request.body);
      reply.header('etag', etagOf(deal.version));
      return dealResponse(deal);
    },
  );

  app.post(
    '/deals/:id/extensions',
    {
      ...admin,
      schema: {
        tags: ['phases and term'],
        summary: "Extend a deal's term",
        description:
          'Moves the end of the term later (an active deal only). Publishes `deal_tracking.deal.term_extended`.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: extensionBody,
        response: { 200: dealSchema, ...writeResponses },
      },
    },
    async (request, reply) => {
      const deal = await extendTerm(ctx, changeRequestOf(request, request.params.id), request.body);
      reply.header('etag', etagOf(deal.version));
      return dealResponse(deal);
    },
  );

  app.post(
    '/deals/:id/tranches',
    {
      ...admin,
      schema: {
        tags: ['phases and term'],
        summary: 'Start the next tranche of a deal',
        description:
          'Records the tranche with its start date and makes it current. Publishes `deal_tracking.deal.updated` ' +
          'with changedFields ["tranche"].',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: trancheBody,
        response: { 200: dealSchema, ...writeResponses },
      },
    },
    async (request, reply) => {
      const deal = await startTranche(ctx, changeRequestOf(request, request.params.id), request.body);
      reply.header('etag', etagOf(deal.version));
      return dealResponse(deal);
    },
  );
};
