import { type Language, languageSchema } from '@citydeals/contracts';
import { HttpProblem } from '@citydeals/service-kit';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { listDeals } from '../deals/deal.repository.ts';
import { registrationWindow } from '../meetings/meeting.rules.ts';
import { findPublicMeetingRow } from '../meetings/meeting.service.ts';
import { MANAGE_PATH, MANAGE_TOKEN_PATTERN } from '../registrations/manage-token.ts';
import { REGISTRATION_BODY_LIMIT } from '../registrations/registration.routes.ts';
import { registerBody, updateNeedsBody } from '../registrations/registration.schemas.ts';
import {
  cancelOwnRegistration,
  register,
  updateOwnNeeds,
  viewOwnRegistration,
} from '../registrations/registration.service.ts';
import { texts } from './page.texts.ts';
import { confirmationPage, type FormValues, managePage, meetingPage, messagePage } from './page.views.ts';

const HTML = 'text/html; charset=utf-8';
const htmlResponse = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string().meta({ example: '<!doctype html><html lang="nl">…' }) } },
});
const langQuery = z.object({ lang: languageSchema.optional().describe('Page language; Dutch by default') });
const formBody = z
  .record(z.string(), z.string())
  .describe('An HTML form post (application/x-www-form-urlencoded)');
const slugParams = z.object({ slug: z.string().min(1).max(120) });
const tokenParams = z.object({ token: z.string().min(1).max(100) });

/** Field names of the JSON body back to the form field that shows the message. */
function fieldOf(path: PropertyKey[]): string {
  const [first, second] = path.map(String);
  if (first === 'consents') return second === 'photo' ? 'consentPhoto' : 'consentAttendeeList';
  return first ?? 'form';
}

/**
 * Server-rendered pages in Dutch (English on request) that work without JavaScript: forms post to these
 * routes, which call the same service functions as the JSON API.
 */
export function pageRoutes(fastify: FastifyInstance, { ctx }: { ctx: ServiceContext }) {
  // Encapsulated, so only the pages accept form posts; the JSON API stays JSON-only.
  fastify.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: REGISTRATION_BODY_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    const app = scope.withTypeProvider<ZodTypeProvider>();
    const tags = ['pages'];

    async function renderMeeting(
      reply: FastifyReply,
      slug: string,
      lang: Language,
      values: FormValues,
      errors: Record<string, string>,
      status: number,
    ) {
      const row = await findPublicMeetingRow(ctx, slug).catch((err) => {
        if (err instanceof HttpProblem && err.problem.status === 404) return null;
        throw err;
      });
      if (!row) {
        const t = texts[lang];
        return reply
          .status(404)
          .type(HTML)
          .send(messagePage({ lang, title: t.notFoundTitle, text: t.notFoundTitle }));
      }
      const window = registrationWindow(
        {
          status: row.status,
          startsAt: row.starts_at,
          endsAt: row.ends_at,
          registrationOpensAt: row.registration_opens_at,
          registrationClosesAt: row.registration_closes_at,
        },
        ctx.clock.now(),
      );
      const deals = await listDeals(ctx.db);
      const path = `/bijeenkomsten/${row.slug}`;
      return reply
        .status(window === 'open' ? status : 409)
        .type(HTML)
        .send(
          meetingPage({
            lang,
            meeting: {
              slug: row.slug,
              title: row.title,
              description: row.description,
              startsAt: row.starts_at,
              endsAt: row.ends_at,
              timeZone: row.time_zone,
              venueName: row.venue_name,
              online: row.online_url !== null,
              agenda: row.agenda,
              seatsAvailable: Math.max(0, row.capacity - row.seats_taken),
              closedReason:
                window === 'open' ? null : (texts[lang].closed[window] ?? texts[lang].closed.closed!),
            },
            deals: deals.filter((d) => !['completed', 'discontinued'].includes(d.phase)),
            values,
            errors,
            action: `${path}/aanmelden`,
            switchHref: `${path}?lang=${lang === 'nl' ? 'en' : 'nl'}`,
          }),
        );
    }

    app.get(
      '/bijeenkomsten/:slug',
      {
        schema: {
          tags,
          summary: 'Public page of a meeting with its registration form',
          params: slugParams,
          querystring: langQuery,
          response: {
            200: htmlResponse('The page'),
            404: htmlResponse('No such meeting'),
            409: htmlResponse('Registration closed'),
          },
        },
      },
      async (request, reply) =>
        renderMeeting(reply, request.params.slug, request.query.lang ?? 'nl', {}, {}, 200),
    );

    app.post(
      '/bijeenkomsten/:slug/aanmelden',
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Registration form post; answers the confirmation page',
          params: slugParams,
          body: formBody,
          response: {
            201: htmlResponse('Confirmation page'),
            200: htmlResponse('Already registered'),
            400: htmlResponse('The form again, with errors next to the fields'),
            404: htmlResponse('No such meeting'),
            409: htmlResponse('Registration closed'),
          },
        },
      },
      async (request, reply) => {
        const form = request.body;
        const lang = languageSchema.catch('nl').parse(form.language);
        const values: FormValues = { ...form, email: form.email?.trim() };
        const t = texts[lang];
        const parsed = registerBody.safeParse({
          name: form.name,
          email: values.email,
          organisation: form.organisation,
          role: form.role || undefined,
          dealId: form.dealId || null,
          dietaryNeeds: form.dietaryNeeds || null,
          accessibilityNeeds: form.accessibilityNeeds || null,
          consents: { photo: form.consentPhoto === 'ja', attendeeList: form.consentAttendeeList === 'ja' },
          language: lang,
        });
        if (!parsed.success) {
          const errors: Record<string, string> = {};
          for (const issue of parsed.error.issues) {
            const name = fieldOf(issue.path);
            errors[name] ??= t.errors[name] ?? issue.message;
          }
          return renderMeeting(reply, request.params.slug, lang, values, errors, 400);
        }
        let meeting: Awaited<ReturnType<typeof findPublicMeetingRow>>;
        try {
          meeting = await findPublicMeetingRow(ctx, request.params.slug);
        } catch {
          return renderMeeting(reply, request.params.slug, lang, values, {}, 404);
        }
        try {
          const result = await register(ctx, meeting.id, parsed.data);
          return reply
            .status(result.existing ? 200 : 201)
            .type(HTML)
            .send(
              confirmationPage({
                lang,
                meetingTitle: meeting.title,
                status: result.status,
                position: result.position,
                manageUrl: result.manageUrl,
              }),
            );
        } catch (err) {
          if (err instanceof HttpProblem && err.problem.status === 400) {
            return renderMeeting(reply, request.params.slug, lang, values, { dealId: t.errors.dealId! }, 400);
          }
          if (err instanceof HttpProblem && err.problem.status === 409) {
            return renderMeeting(reply, request.params.slug, lang, values, {}, 409);
          }
          throw err;
        }
      },
    );

    async function renderManage(
      reply: FastifyReply,
      token: string,
      lang: Language,
      extra: { errors?: Record<string, string>; message?: string | null; status?: number } = {},
    ) {
      const t = texts[lang];
      const own = MANAGE_TOKEN_PATTERN.test(token)
        ? await viewOwnRegistration(ctx, token).catch((err) => {
            if (err instanceof HttpProblem && err.problem.status === 404) return null;
            throw err;
          })
        : null;
      if (!own) {
        return reply
          .status(404)
          .type(HTML)
          .send(messagePage({ lang, title: t.unknownLinkTitle, text: t.unknownLinkText }));
      }
      return reply
        .status(extra.status ?? 200)
        .type(HTML)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(
          managePage({
            lang,
            token,
            registration: own,
            meeting: {
              title: own.meeting.title,
              startsAt: new Date(own.meeting.startsAt),
              endsAt: new Date(own.meeting.endsAt),
              timeZone: own.meeting.timeZone,
              venueName: own.meeting.venue.name,
              venueAddress: own.meeting.venue.address,
            },
            errors: extra.errors ?? {},
            message: extra.message ?? null,
            basePath: `${MANAGE_PATH}/${token}`,
          }),
        );
    }

    app.get(
      MANAGE_PATH,
      {
        schema: {
          tags,
          summary: 'Where the manage link points when it carries no token',
          querystring: langQuery,
          response: { 200: htmlResponse('An explanation') },
        },
      },
      async (request, reply) => {
        const lang = request.query.lang ?? 'nl';
        const t = texts[lang];
        return reply.type(HTML).send(messagePage({ lang, title: t.manageTitle, text: t.noTokenText }));
      },
    );

    app.get(
      `${MANAGE_PATH}/:token`,
      {
        schema: {
          tags,
          summary: 'Manage page behind the emailed link',
          params: tokenParams,
          querystring: langQuery,
          response: { 200: htmlResponse('The registration'), 404: htmlResponse('Unknown link') },
        },
      },
      async (request, reply) => renderManage(reply, request.params.token, request.query.lang ?? 'nl'),
    );

    app.post(
      `${MANAGE_PATH}/:token/wensen`,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Needs form post from the manage page',
          params: tokenParams,
          body: formBody,
          response: {
            200: htmlResponse('Saved'),
            400: htmlResponse('Errors'),
            404: htmlResponse('Unknown link'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const parsed = updateNeedsBody.safeParse({
          dietaryNeeds: request.body.dietaryNeeds || null,
          accessibilityNeeds: request.body.accessibilityNeeds || null,
        });
        if (!parsed.success) {
          const errors: Record<string, string> = {};
          for (const issue of parsed.error.issues)
            errors[fieldOf(issue.path)] = texts[lang].errors[fieldOf(issue.path)] ?? issue.message;
          return renderManage(reply, token, lang, { errors, status: 400 });
        }
        if (MANAGE_TOKEN_PATTERN.test(token)) {
          const ok = await updateOwnNeeds(ctx, token, parsed.data).catch((err) => {
            if (err instanceof HttpProblem && err.problem.status < 500) return null;
            throw err;
          });
          if (ok) return renderManage(reply, token, lang, { message: texts[lang].saved });
        }
        return renderManage(reply, token, lang);
      },
    );

    app.post(
      `${MANAGE_PATH}/:token/afmelden`,
      {
        schema: {
          tags,
          summary: 'Cancel form post from the manage page (needs the confirmation box ticked)',
          params: tokenParams,
          body: formBody,
          response: {
            200: htmlResponse('Cancelled'),
            400: htmlResponse('Not confirmed'),
            404: htmlResponse('Unknown link'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = texts[lang];
        if (!MANAGE_TOKEN_PATTERN.test(token)) return renderManage(reply, token, lang);
        if (request.body.confirm !== 'ja') {
          return renderManage(reply, token, lang, { errors: { confirm: t.errors.confirm! }, status: 400 });
        }
        const done = await cancelOwnRegistration(ctx, token).catch((err) => {
          if (err instanceof HttpProblem && err.problem.status < 500) return null;
          throw err;
        });
        if (!done) return renderManage(reply, token, lang);
        return reply.type(HTML).send(messagePage({ lang, title: t.cancelledTitle, text: t.cancelledText }));
      },
    );
  });
}
