import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { audit, guard, pageContext, staffOf } from '../sessions/session.plugin.ts';
import { backendFailure } from '../web/backend-failure.ts';
import type { SafeHtml } from '../web/html.ts';
import { layout } from '../web/layout.ts';
import { createBodyOf, editBodyOf, fieldErrorsOf } from './meeting.rules.ts';
import { meetingTexts } from './meeting.texts.ts';
import {
  type AdminAttendee,
  type AdminMeeting,
  attendeeForm,
  type Consequences,
  confirmPage,
  type FieldErrors,
  localInput,
  type MeetingFormValues,
  meetingForm,
  meetingList,
  meetingPage,
  type StaffActionItem,
} from './meeting.views.ts';
import {
  detailFieldsOf,
  detailsBodyOf,
  detailValuesFromMeeting,
  detailValuesOf,
  emptyDetails,
  type MeetingDetailValues,
  meetingErrorsOf,
} from './meeting-details.rules.ts';

const HTML = 'text/html; charset=utf-8';
const params = z.object({ id: z.uuid() });
const text = (max: number) => z.string().max(max).default('');
const csrf = { _csrf: z.string().max(200).optional() };
const confirm = { confirm: z.literal('1').optional() };
const meetingFields = {
  title: text(200),
  slug: text(120),
  description: text(5000),
  venueName: text(200),
  venueAddress: text(500),
  onlineUrl: text(2048),
};
// Loose: the agenda rows, reminder choices and window (meeting-details.rules.ts) are read from the rest.
const createForm = z.looseObject({
  ...meetingFields,
  startsAt: text(40),
  endsAt: text(40),
  capacity: text(10),
  publish: z.literal('1').optional(),
  ...csrf,
});
const editForm = z.looseObject({ ...meetingFields, ...csrf, ...confirm });
const rescheduleForm = z.object({
  startsAt: z.string().min(1).max(40),
  endsAt: z.string().min(1).max(40),
  ...csrf,
  ...confirm,
});
const capacityForm = z.object({ capacity: z.coerce.number().int().min(1).max(100_000), ...csrf, ...confirm });
const cancelForm = z.object({ reason: z.string().trim().max(1000).default(''), ...csrf, ...confirm });
const publishForm = z.object({ ...csrf, ...confirm });
const attendeeFormBody = z.object({
  name: text(200),
  email: text(254),
  organisation: text(200),
  overCapacity: z.literal('1').optional(),
  ...csrf,
});
const attendeeParams = z.object({ id: z.uuid(), registrationId: z.uuid() });
const changeAttendeeBody = z.object({
  name: text(200),
  email: text(254),
  organisation: text(200),
  substitute: z.literal('1').optional(),
  ...csrf,
});
const listQuery = z.object({
  q: z.string().trim().max(100).optional().catch(undefined),
  status: z
    .enum(['confirmed', 'waitlisted', 'checked_in', 'no_show', 'cancelled'])
    .optional()
    .catch(undefined),
  done: z.enum(['1', 'added', 'changed']).optional().catch(undefined),
});

/** The edit form's own fields, without the loose rest (the details) and the form's bookkeeping. */
const editValuesOf = (form: z.output<typeof editForm>) => ({
  title: form.title,
  slug: form.slug,
  description: form.description,
  venueName: form.venueName,
  venueAddress: form.venueAddress,
  onlineUrl: form.onlineUrl,
});

const emptyMeeting: MeetingFormValues = {
  title: '',
  slug: '',
  description: '',
  startsAt: '',
  endsAt: '',
  venueName: '',
  venueAddress: '',
  onlineUrl: '',
  capacity: '',
};

/**
 * Meetings and their attendees. Every change to a meeting goes through a confirmation step showing what it
 * will do, as registration computes it (its `consequences` dry run); the change is made only when confirmed.
 */
export const meetingRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const page = (request: FastifyRequest) => {
    const p = pageContext(request);
    return { p, mt: meetingTexts(p.lang), csrf: p.staff?.csrfToken ?? '' };
  };
  const send = (reply: FastifyReply, request: FastifyRequest, title: string, body: SafeHtml, status = 200) =>
    reply
      .status(status)
      .type(HTML)
      .send(layout(pageContext(request), title, body));
  const registration = <T>(
    request: FastifyRequest,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    body?: unknown,
  ) =>
    ctx.services.call<T>(staffOf(request), 'registration', method, path, body === undefined ? {} : { body });
  const loadMeeting = (request: FastifyRequest, id: string) =>
    registration<AdminMeeting>(request, 'GET', `/admin/meetings/${id}`);

  app.get(
    '/meetings',
    { schema: { hide: true }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { p, mt } = page(request);
      const answer = await registration<{ items: AdminMeeting[] }>(request, 'GET', '/admin/meetings');
      if (answer.status !== 200) return backendFailure(reply, p, answer.status);
      const items = [...answer.body.items].sort((a, b) => b.startsAt.localeCompare(a.startsAt));
      return send(reply, request, mt.meetings, meetingList(mt, items, true));
    },
  );

  const newMeetingPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    values: MeetingFormValues,
    details: MeetingDetailValues,
    errors: FieldErrors,
    status = 200,
  ) => {
    const { p, mt, csrf } = page(request);
    return send(
      reply,
      request,
      mt.newMeeting,
      meetingForm(mt, {
        action: '/meetings',
        csrf,
        values,
        errors,
        edit: false,
        details: { lang: p.lang, values: details },
      }),
      status,
    );
  };

  app.get(
    '/meetings/new',
    { schema: { hide: true }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => newMeetingPage(request, reply, emptyMeeting, emptyDetails(), {}),
  );

  app.post(
    '/meetings',
    { schema: { hide: true, body: createForm }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { _csrf, publish, ...values } = request.body;
      const details = detailValuesOf(request.body);
      const sent = detailsBodyOf(details);
      const answer = await registration<AdminMeeting>(request, 'POST', '/admin/meetings', {
        ...createBodyOf(values, publish === '1'),
        ...sent.body,
      });
      await audit(
        ctx,
        request,
        'meeting.create',
        answer.status === 201 ? 'ok' : 'failed',
        { status: answer.status, slug: values.slug, publish: publish === '1' },
        answer.status === 201 ? `meeting:${answer.body.id}` : undefined,
      );
      if (answer.status === 201) return reply.redirect(`/meetings/${answer.body.id}?done=1`, 303);
      if (answer.status === 400 || answer.status === 409) {
        const errors = meetingErrorsOf(fieldErrorsOf(answer.body, 'title'), answer.body, sent.rows);
        return newMeetingPage(request, reply, values, details, errors, 400);
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );

  app.get(
    '/meetings/:id',
    { schema: { hide: true, params, querystring: listQuery }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { p, mt, csrf } = page(request);
      const { id } = request.params;
      const { q = '', status = '', done } = request.query;
      const search = new URLSearchParams({
        limit: '1000',
        ...(q ? { q } : {}),
        ...(status ? { status } : {}),
      });
      const [meeting, attendees, history] = await Promise.all([
        loadMeeting(request, id),
        registration<{ items: AdminAttendee[] }>(
          request,
          'GET',
          `/admin/meetings/${id}/registrations?${search}`,
        ),
        registration<{ items: StaffActionItem[] }>(
          request,
          'GET',
          `/admin/meetings/${id}/staff-actions?limit=50`,
        ),
      ]);
      for (const answer of [meeting, attendees, history]) {
        if (answer.status !== 200) return backendFailure(reply, p, answer.status);
      }
      const message = done === 'added' ? mt.added : done ? mt.done : undefined;
      return send(
        reply,
        request,
        meeting.body.title,
        meetingPage(mt, {
          meeting: meeting.body,
          attendees: attendees.body.items,
          history: history.body.items,
          csrf,
          filter: { q, status },
          message,
        }),
      );
    },
  );

  app.get(
    '/meetings/:id/attendees.csv',
    { schema: { hide: true, params, querystring: listQuery }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { q, status } = request.query;
      const search = new URLSearchParams({ ...(q ? { q } : {}), ...(status ? { status } : {}) });
      const answer = await ctx.services.call<string>(
        staffOf(request),
        'registration',
        'GET',
        `/admin/meetings/${request.params.id}/registrations.csv?${search}`,
        { headers: { accept: 'text/csv' } },
      );
      await audit(
        ctx,
        request,
        'meeting.export-attendees',
        answer.status === 200 ? 'ok' : 'failed',
        { status: answer.status },
        `meeting:${request.params.id}`,
      );
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      return reply
        .type('text/csv; charset=utf-8')
        .header(
          'content-disposition',
          answer.headers.get('content-disposition') ?? 'attachment; filename="deelnemers.csv"',
        )
        .send(answer.body);
    },
  );

  const editPage = (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    values: MeetingFormValues,
    details: MeetingDetailValues,
    errors: FieldErrors,
    status = 200,
  ) => {
    const { p, mt, csrf } = page(request);
    return send(
      reply,
      request,
      mt.edit,
      meetingForm(mt, {
        action: `/meetings/${id}/edit`,
        csrf,
        values,
        errors,
        edit: true,
        details: { lang: p.lang, values: details },
      }),
      status,
    );
  };

  app.get(
    '/meetings/:id/edit',
    { schema: { hide: true, params }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const meeting = await loadMeeting(request, request.params.id);
      if (meeting.status !== 200) return backendFailure(reply, pageContext(request), meeting.status);
      const m = meeting.body;
      return editPage(
        request,
        reply,
        m.id,
        {
          ...emptyMeeting,
          title: m.title,
          slug: m.slug,
          description: m.description ?? '',
          venueName: m.venue.name,
          venueAddress: m.venue.address,
          onlineUrl: m.onlineUrl ?? '',
        },
        detailValuesFromMeeting(m, localInput),
        {},
      );
    },
  );

  /**
   * One change in two steps: unconfirmed, registration previews it and the page shows what it will do;
   * confirmed, it is made, audited, and the meeting page says so.
   */
  const change = <B extends { confirm?: '1' | undefined; _csrf?: string | undefined }>(
    name: 'edit' | 'publish' | 'reschedule' | 'capacity' | 'cancel',
    schema: z.ZodType<B>,
    make: (body: B) => {
      preview: Record<string, unknown>;
      method: 'POST' | 'PUT' | 'PATCH';
      path: string;
      call: unknown;
      fields: Record<string, string>;
    },
    onInvalid?: (
      request: FastifyRequest,
      reply: FastifyReply,
      id: string,
      body: B,
      errors: FieldErrors,
      problem: unknown,
    ) => unknown,
  ) =>
    app.post(
      `/meetings/:id/${name}`,
      { schema: { hide: true, params, body: schema }, preValidation: guard(ctx, 'meetings') },
      async (request, reply) => {
        const { id } = request.params;
        const body = request.body as B;
        const { mt, csrf, p } = page(request);
        const plan = make(body);
        if (body.confirm !== '1') {
          const preview = await registration<Consequences>(
            request,
            'POST',
            `/admin/meetings/${id}/consequences`,
            { change: name, ...plan.preview },
          );
          if (preview.status === 400 && onInvalid)
            return onInvalid(request, reply, id, body, fieldErrorsOf(preview.body, 'title'), preview.body);
          if (preview.status !== 200) return backendFailure(reply, p, preview.status);
          const meeting = await loadMeeting(request, id);
          if (meeting.status !== 200) return backendFailure(reply, p, meeting.status);
          const titles = {
            edit: mt.edit,
            publish: mt.publish,
            reschedule: mt.reschedule,
            capacity: mt.changeCapacity,
            cancel: mt.cancel,
          };
          return send(
            reply,
            request,
            `${titles[name]}: ${meeting.body.title}`,
            confirmPage(mt, {
              action: `/meetings/${id}/${name}`,
              csrf,
              fields: plan.fields,
              consequences: preview.body,
              change: name,
              backTo: `/meetings/${id}`,
            }),
          );
        }
        const answer = await registration(
          request,
          plan.method,
          `/admin/meetings/${id}${plan.path}`,
          plan.call,
        );
        await audit(
          ctx,
          request,
          `meeting.${name}`,
          answer.status === 200 ? 'ok' : 'failed',
          { status: answer.status, ...plan.fields },
          `meeting:${id}`,
        );
        if (answer.status === 200) return reply.redirect(`/meetings/${id}?done=1`, 303);
        if ((answer.status === 400 || answer.status === 409) && onInvalid) {
          return onInvalid(request, reply, id, body, fieldErrorsOf(answer.body, 'title'), answer.body);
        }
        return backendFailure(reply, p, answer.status);
      },
    );

  change(
    'edit',
    editForm,
    (form) => {
      const v = editValuesOf(form);
      const body = editBodyOf(v);
      // The preview asks about what mails go out on; the agenda, reminders and window send none.
      const { slug: _slug, ...preview } = body;
      const details = detailValuesOf(form);
      const call = { ...body, ...detailsBodyOf(details).body };
      return { preview, method: 'PATCH', path: '', call, fields: { ...v, ...detailFieldsOf(details) } };
    },
    (request, reply, id, form, errors, problem) => {
      const details = detailValuesOf(form);
      const all = meetingErrorsOf(errors, problem, detailsBodyOf(details).rows);
      return editPage(request, reply, id, { ...emptyMeeting, ...editValuesOf(form) }, details, all, 400);
    },
  );
  change('publish', publishForm, () => ({
    preview: {},
    method: 'POST',
    path: '/publish',
    call: {},
    fields: {},
  }));
  change('reschedule', rescheduleForm, ({ startsAt, endsAt }) => ({
    preview: { startsAt, endsAt },
    method: 'POST',
    path: '/reschedule',
    call: { startsAt, endsAt },
    fields: { startsAt, endsAt },
  }));
  change('capacity', capacityForm, ({ capacity }) => ({
    preview: { capacity },
    method: 'PUT',
    path: '/capacity',
    call: { capacity },
    fields: { capacity: String(capacity) },
  }));
  change('cancel', cancelForm, ({ reason }) => ({
    preview: {},
    method: 'POST',
    path: '/cancel',
    call: { reason: reason || null },
    fields: { reason },
  }));

  const attendeePage = (
    request: FastifyRequest,
    reply: FastifyReply,
    id: string,
    values: Record<string, string>,
    errors: FieldErrors,
    status = 200,
  ) => {
    const { mt, csrf } = page(request);
    return send(
      reply,
      request,
      mt.addAttendee,
      attendeeForm(mt, { action: `/meetings/${id}/attendees`, csrf, values, errors }),
      status,
    );
  };

  app.get(
    '/meetings/:id/attendees/new',
    { schema: { hide: true, params }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => attendeePage(request, reply, request.params.id, {}, {}),
  );

  app.post(
    '/meetings/:id/attendees',
    { schema: { hide: true, params, body: attendeeFormBody }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const { id } = request.params;
      const { _csrf, ...v } = request.body;
      const answer = await registration<{ registrationId: string }>(
        request,
        'POST',
        `/admin/meetings/${id}/registrations`,
        {
          name: v.name.trim(),
          email: v.email.trim(),
          organisation: v.organisation.trim() || null,
          overCapacity: v.overCapacity === '1',
        },
      );
      await audit(
        ctx,
        request,
        'meeting.add-attendee',
        answer.status === 201 ? 'ok' : 'failed',
        { status: answer.status, overCapacity: v.overCapacity === '1' },
        answer.status === 201 ? `registration:${answer.body.registrationId}` : `meeting:${id}`,
      );
      if (answer.status === 201) return reply.redirect(`/meetings/${id}?done=added`, 303);
      if (answer.status === 400 || answer.status === 409) {
        return attendeePage(
          request,
          reply,
          id,
          { ...v, overCapacity: v.overCapacity ?? '' },
          fieldErrorsOf(answer.body, 'email'),
          400,
        );
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );

  const changePage = (
    request: FastifyRequest,
    reply: FastifyReply,
    ids: { id: string; registrationId: string },
    values: Record<string, string>,
    errors: FieldErrors,
    status = 200,
  ) => {
    const { mt, csrf } = page(request);
    const action = `/meetings/${ids.id}/attendees/${ids.registrationId}`;
    return send(
      reply,
      request,
      mt.changeAttendee,
      attendeeForm(mt, { action, csrf, values, errors, change: true }),
      status,
    );
  };

  app.get(
    '/meetings/:id/attendees/:registrationId/edit',
    { schema: { hide: true, params: attendeeParams }, preValidation: guard(ctx, 'meetings') },
    async (request, reply) => {
      const answer = await registration<{
        name: string | null;
        email: string | null;
        organisation: string | null;
      }>(request, 'GET', `/admin/registrations/${request.params.registrationId}`);
      if (answer.status !== 200) return backendFailure(reply, pageContext(request), answer.status);
      const a = answer.body;
      return changePage(
        request,
        reply,
        request.params,
        { name: a.name ?? '', email: a.email ?? '', organisation: a.organisation ?? '' },
        {},
      );
    },
  );

  /** A correction of the same person, or (with `substitute`) someone else in the seat; registration decides. */
  app.post(
    '/meetings/:id/attendees/:registrationId',
    {
      schema: { hide: true, params: attendeeParams, body: changeAttendeeBody },
      preValidation: guard(ctx, 'meetings'),
    },
    async (request, reply) => {
      const { id, registrationId } = request.params;
      const { _csrf, ...v } = request.body;
      const substitute = v.substitute === '1';
      const answer = await registration(request, 'PATCH', `/admin/registrations/${registrationId}`, {
        name: v.name.trim(),
        email: v.email.trim(),
        organisation: v.organisation.trim() || null,
        substitute,
      });
      await audit(
        ctx,
        request,
        substitute ? 'meeting.substitute-attendee' : 'meeting.change-attendee',
        answer.status === 200 ? 'ok' : 'failed',
        { status: answer.status },
        `registration:${registrationId}`,
      );
      if (answer.status === 200) return reply.redirect(`/meetings/${id}?done=changed`, 303);
      if (answer.status === 400 || answer.status === 409) {
        return changePage(
          request,
          reply,
          { id, registrationId },
          { ...v, substitute: v.substitute ?? '' },
          fieldErrorsOf(answer.body, 'substitute'),
          400,
        );
      }
      return backendFailure(reply, pageContext(request), answer.status);
    },
  );
};
