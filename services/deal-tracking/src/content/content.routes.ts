import type { FastifyReply } from 'fastify';
import type { Routes } from '../context.ts';
import { etagOf } from '../deals/deal.rules.ts';
import { dealIdParams } from '../deals/deal.schemas.ts';
import {
  authenticated,
  changeRequestOf,
  ifMatchHeaders,
  type WithIsoTimes,
  withIsoTimes,
  writeResponses,
} from '../http/request.ts';
import {
  lessonBody,
  lessonCreated,
  linkBody,
  linkCreatedResponse,
  partnerBody,
  partnerChanged,
  partnerLeaveBody,
  partnerParams,
  personBody,
  personCreated,
  personParams,
  resultBody,
  resultCreated,
  versionOnly,
} from './content.schemas.ts';
import {
  addPerson,
  joinPartner,
  leavePartner,
  linkDeals,
  recordLesson,
  recordResult,
  removePerson,
} from './content.service.ts';

const security = [{ adminKey: [] }];
const tags = ['deal content'];

/** Content answers carry the deal's new version, also as the ETag for the next If-Match. */
function answer<B extends object>(reply: FastifyReply, status: number, version: number, body: B) {
  reply.status(status).header('etag', etagOf(version));
  return { ...(withIsoTimes(body) as WithIsoTimes<B> & object), dealVersion: version };
}

export const contentRoutes: Routes = async (app, { ctx }) => {
  const admin = authenticated(app, 'admin');

  app.post(
    '/deals/:id/people',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Add a person in a role',
        description:
          'Projectleider, projectsecretaris, dealmaker, programmamanager or communicatieadviseur, with a contact ' +
          'address. Publishes `deal_tracking.deal.updated` with changedFields ["people"] (without the address).',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: personBody,
        response: { 201: personCreated, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { person, version } = await addPerson(
        ctx,
        changeRequestOf(request, request.params.id),
        request.body,
      );
      return answer(reply, 201, version, { person });
    },
  );

  app.delete(
    '/deals/:id/people/:personId',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Remove a person from a deal',
        description: 'Publishes `deal_tracking.deal.updated` with changedFields ["people"].',
        security,
        params: personParams,
        headers: ifMatchHeaders,
        response: { 200: versionOnly, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { version } = await removePerson(
        ctx,
        changeRequestOf(request, request.params.id),
        request.params.personId,
      );
      return answer(reply, 200, version, {});
    },
  );

  app.post(
    '/deals/:id/partners',
    {
      ...admin,
      schema: {
        tags,
        summary: 'A partner organisation joins a deal',
        description: 'Publishes `deal_tracking.partner.joined`.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: partnerBody,
        response: { 201: partnerChanged, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { partner, version } = await joinPartner(
        ctx,
        changeRequestOf(request, request.params.id),
        request.body,
      );
      return answer(reply, 201, version, { partner });
    },
  );

  app.post(
    '/deals/:id/partners/:partnerId/leave',
    {
      ...admin,
      schema: {
        tags,
        summary: 'A partner organisation leaves a deal',
        description:
          'Keeps the partner in the record with the date it left. Publishes `deal_tracking.partner.left`; a ' +
          'partner that already left is answered 409.',
        security,
        params: partnerParams,
        headers: ifMatchHeaders,
        body: partnerLeaveBody,
        response: { 200: partnerChanged, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { partner, version } = await leavePartner(
        ctx,
        changeRequestOf(request, request.params.id),
        request.params.partnerId,
        request.body,
      );
      return answer(reply, 200, version, { partner });
    },
  );

  app.post(
    '/deals/:id/results',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Record a result',
        description:
          'A concrete outcome: a rule changed, a plan, a fund. Publishes `deal_tracking.result.recorded`.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: resultBody,
        response: { 201: resultCreated, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { result, version } = await recordResult(
        ctx,
        changeRequestOf(request, request.params.id),
        request.body,
      );
      return answer(reply, 201, version, { result });
    },
  );

  app.post(
    '/deals/:id/lessons',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Record a lesson',
        description:
          'A success or a setback, optionally with the meeting where it was shared. Publishes ' +
          '`deal_tracking.lesson.recorded`.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: lessonBody,
        response: { 201: lessonCreated, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { lesson, version } = await recordLesson(
        ctx,
        changeRequestOf(request, request.params.id),
        request.body,
      );
      return answer(reply, 201, version, { lesson });
    },
  );

  app.post(
    '/deals/:id/links',
    {
      ...admin,
      schema: {
        tags,
        summary: 'Record a cross-link (dwarsverband) to another deal',
        description:
          'Counts as a change of this deal (its version, `deal_tracking.link.created`); the link shows on both ' +
          'deals. One link per pair: a second is answered 409.',
        security,
        params: dealIdParams,
        headers: ifMatchHeaders,
        body: linkBody,
        response: { 201: linkCreatedResponse, ...writeResponses },
      },
    },
    async (request, reply) => {
      const { link, version } = await linkDeals(
        ctx,
        changeRequestOf(request, request.params.id),
        request.body,
      );
      return answer(reply, 201, version, { link });
    },
  );
};
