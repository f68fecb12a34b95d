import { randomBytes } from 'node:crypto';
import { type Language, languageSchema } from '@citydeals/contracts';
import { HttpProblem } from '@citydeals/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CSRF_FIELD,
  csrfCookieHeader,
  csrfCookieOf,
  csrfFieldFor,
  csrfValid,
  newCsrfCookieValue,
} from '../abuse/csrf.rules.ts';
import { ProofOfWork } from '../abuse/proof-of-work.ts';
import {
  CONFIRM_PATH,
  confirmationLinkStateOf,
  confirmRegistration,
} from '../address-confirmation/address-confirmation.service.ts';
import { mayViewList } from '../attendee-list/attendee-list.rules.ts';
import { attendeeListFor } from '../attendee-list/attendee-list.service.ts';
import type { Config } from '../config.ts';
import type { Routes } from '../context.ts';
import { listDeals } from '../deals/deal.repository.ts';
import { MANAGE_PATH, MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';
import { findMeeting } from '../meetings/meeting.repository.ts';
import { registrationWindow } from '../meetings/meeting.rules.ts';
import { findPublicMeetingRow } from '../meetings/meeting.service.ts';
import { checkAnswers } from '../questions/question.rules.ts';
import { changeOwnAnswers, questionsOf, viewOwnAnswers } from '../questions/question.service.ts';
import {
  answerErrors,
  answersFromForm,
  answersSaved,
  manageAnswers,
  questionFields,
} from '../questions/questions.view.ts';
import { requestManageLinks } from '../registrations/manage-link.service.ts';
import { REGISTRATION_BODY_LIMIT } from '../registrations/registration.routes.ts';
import {
  manageLinkRequestBody,
  registerBody,
  updateNeedsBody,
} from '../registrations/registration.schemas.ts';
import {
  cancelOwnRegistration,
  register,
  updateOwnNeeds,
  viewOwnRegistration,
} from '../registrations/registration.service.ts';
import { changeOwnSessions, publicSessionsOf, viewOwnSessions } from '../sessions/session.service.ts';
import { surveyAnswerBody } from '../survey/survey.schemas.ts';
import { answerSurvey, openSurvey, SURVEY_PATH } from '../survey/survey.service.ts';
import { offerPageRoutes } from './offer-page.routes.ts';
import { texts } from './page.texts.ts';
import {
  confirmAddressPage,
  confirmationPage,
  type FormGuard,
  type FormValues,
  managePage,
  meetingPage,
  messagePage,
  RESEND_PATH,
  resendPage,
  surveyPage,
} from './page.views.ts';
import {
  manageSessionsSection,
  sessionIdsFromForm,
  sessionMessages,
  sessionsFormFields,
} from './sessions.view.ts';
import { staticRoutes } from './static.routes.ts';

/** What guards the forms: the CSRF secret, whether the cookie needs Secure, and the proof of work (or none). */
interface FormProtection {
  secret: string;
  secureCookie: boolean;
  proofOfWork: ProofOfWork | null;
}

/** From the config: without FORM_SECRET, a secret of this process (forms open elsewhere then fail CSRF). */
function formProtectionOf(config: Config, publicBaseUrl: string): FormProtection {
  const secret = config.FORM_SECRET ?? randomBytes(32).toString('base64url');
  return {
    secret,
    secureCookie: publicBaseUrl.startsWith('https:'),
    proofOfWork: config.REGISTRATION_PROOF_OF_WORK
      ? new ProofOfWork({
          secret,
          cost: config.PROOF_OF_WORK_COST,
          maxCounter: config.PROOF_OF_WORK_MAX_COUNTER,
        })
      : null,
  };
}

const POW_CHALLENGE_PATH = '/aanmelding/pow-challenge';

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
export const pageRoutes: Routes = async (fastify, { ctx, config }) => {
  const forms = formProtectionOf(config, ctx.publicBaseUrl);
  fastify.register(staticRoutes);

  /** The form field for this browser, issuing its cookie on first sight. */
  function guardFor(request: FastifyRequest, reply: FastifyReply): FormGuard {
    let cookie = csrfCookieOf(request.headers.cookie);
    if (!cookie) {
      cookie = newCsrfCookieValue();
      reply.header('set-cookie', csrfCookieHeader(cookie, forms.secureCookie));
    }
    return { csrf: csrfFieldFor(forms.secret, cookie) };
  }

  const busy = (reply: FastifyReply, lang: Language) =>
    reply
      .status(429)
      .type(HTML)
      .send(messagePage({ lang, title: texts[lang].busyTitle, text: texts[lang].busyText }));

  const csrfOk = (request: FastifyRequest<{ Body: Record<string, string> }>) =>
    csrfValid(forms.secret, csrfCookieOf(request.headers.cookie), request.body[CSRF_FIELD]);

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
      request: FastifyRequest,
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
              venueAddress: row.venue_address,
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
            guard: guardFor(request, reply),
            powChallengeUrl: forms.proofOfWork ? POW_CHALLENGE_PATH : null,
            questions: questionFields(lang, await questionsOf(ctx.db, row.id), values, errors),
            sessions: sessionsFormFields({
              lang,
              timeZone: row.time_zone,
              sessions: await publicSessionsOf(ctx.db, row.id),
              values,
              errors,
            }),
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
        renderMeeting(request, reply, request.params.slug, request.query.lang ?? 'nl', {}, {}, 200),
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
            200: htmlResponse('Already registered (the link was mailed to the address)'),
            202: htmlResponse('The meeting asks for the address to be confirmed: check your mailbox'),
            400: htmlResponse('The form again, with errors next to the fields (or without a proof of work)'),
            403: htmlResponse('The form again: it came without its CSRF field and cookie'),
            404: htmlResponse('No such meeting'),
            409: htmlResponse('Registration closed, or meeting and waitlist full'),
            429: htmlResponse('Too many registrations from this client or for this address'),
          },
        },
      },
      async (request, reply) => {
        const form = request.body;
        const lang = languageSchema.catch('nl').parse(form.language);
        const values: FormValues = { ...form, email: form.email?.trim() };
        const t = texts[lang];
        if (!csrfOk(request)) {
          return renderMeeting(
            request,
            reply,
            request.params.slug,
            lang,
            values,
            { form: t.errors.form! },
            403,
          );
        }
        const questions = await findPublicMeetingRow(ctx, request.params.slug).then(
          (row) => questionsOf(ctx.db, row.id),
          () => [],
        );
        const answers = answersFromForm(questions, form);
        const answerCheck = checkAnswers(questions, answers);
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
          answers,
          sessionIds: sessionIdsFromForm(form),
        });
        if (!parsed.success || !answerCheck.ok) {
          const errors: Record<string, string> = {};
          for (const issue of parsed.error?.issues ?? []) {
            // The questions' own check below says what is wrong with an answer.
            if (issue.path[0] === 'answers') continue;
            const name = fieldOf(issue.path);
            errors[name] ??=
              t.errors[name] ?? (name === 'sessionIds' ? sessionMessages(lang).invalid : issue.message);
          }
          if (!answerCheck.ok) Object.assign(errors, answerErrors(lang, answerCheck.issues));
          return renderMeeting(request, reply, request.params.slug, lang, values, errors, 400);
        }
        if (forms.proofOfWork && !(await forms.proofOfWork.verify(form.altcha))) {
          return renderMeeting(
            request,
            reply,
            request.params.slug,
            lang,
            values,
            { altcha: t.errors.altcha! },
            400,
          );
        }
        let meeting: Awaited<ReturnType<typeof findPublicMeetingRow>>;
        try {
          meeting = await findPublicMeetingRow(ctx, request.params.slug);
        } catch {
          return renderMeeting(request, reply, request.params.slug, lang, values, {}, 404);
        }
        try {
          const result = await register(ctx, meeting.id, parsed.data, { client: request.ip });
          if (result.status === 'awaiting_confirmation') {
            return reply
              .status(202)
              .type(HTML)
              .send(messagePage({ lang, title: t.awaitingTitle, text: t.awaitingText }));
          }
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
            // The questions changed since they were checked above, or the deal is unknown.
            const answerProblems = answerErrors(lang, err.problem.errors ?? []);
            const sessions = JSON.stringify(err.problem.errors ?? []).includes('body.sessionIds');
            return renderMeeting(
              request,
              reply,
              request.params.slug,
              lang,
              values,
              Object.keys(answerProblems).length > 0
                ? answerProblems
                : sessions
                  ? { sessionIds: sessionMessages(lang).invalid }
                  : { dealId: t.errors.dealId! },
              400,
            );
          }
          if (err instanceof HttpProblem && err.problem.type.endsWith('/waitlist-full')) {
            return reply
              .status(409)
              .type(HTML)
              .send(messagePage({ lang, title: t.full, text: t.waitlistFullText }));
          }
          if (err instanceof HttpProblem && err.problem.status === 409) {
            return renderMeeting(request, reply, request.params.slug, lang, values, {}, 409);
          }
          if (err instanceof HttpProblem && err.problem.status === 429) {
            return busy(reply, lang);
          }
          throw err;
        }
      },
    );

    async function renderManage(
      request: FastifyRequest,
      reply: FastifyReply,
      token: string,
      lang: Language,
      extra: {
        errors?: Record<string, string>;
        message?: string | null;
        status?: number;
        answerValues?: FormValues;
      } = {},
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
          .send(messagePage({ lang, title: t.unknownLinkTitle, text: t.unknownLinkText, resend: true }));
      }
      const guard = guardFor(request, reply);
      const basePath = `${MANAGE_PATH}/${token}`;
      return reply
        .status(extra.status ?? 200)
        .type(HTML)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(
          managePage({
            lang,
            token,
            registration: { ...own, consentAttendeeList: own.consents.attendeeList },
            attendees: mayViewList(own.status) ? (await attendeeListFor(ctx, token)).attendees : null,
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
            basePath,
            guard,
            answers: manageAnswers({
              lang,
              questions: (await viewOwnAnswers(ctx, token)).questions,
              changeable: own.status === 'confirmed' || own.status === 'waitlisted',
              action: `${basePath}/antwoorden`,
              guard,
              values: extra.answerValues ?? null,
              errors: extra.errors ?? {},
            }),
            sessions:
              own.status === 'confirmed' || own.status === 'waitlisted'
                ? manageSessionsSection({
                    lang,
                    timeZone: own.meeting.timeZone,
                    sessions: (await viewOwnSessions(ctx, token)).sessions,
                    action: `${basePath}/sessies`,
                    guard,
                    errors: extra.errors ?? {},
                  })
                : '',
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
        return reply
          .type(HTML)
          .send(messagePage({ lang, title: t.manageTitle, text: t.noTokenText, resend: true }));
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
      async (request, reply) =>
        renderManage(request, reply, request.params.token, request.query.lang ?? 'nl'),
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
            403: htmlResponse('Without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        if (!csrfOk(request)) {
          return renderManage(request, reply, token, lang, {
            errors: { form: texts[lang].errors.form! },
            status: 403,
          });
        }
        const parsed = updateNeedsBody.safeParse({
          dietaryNeeds: request.body.dietaryNeeds || null,
          accessibilityNeeds: request.body.accessibilityNeeds || null,
          // An unticked box is not posted: off.
          consents: { attendeeList: request.body.consentAttendeeList === 'ja' },
        });
        if (!parsed.success) {
          const errors: Record<string, string> = {};
          for (const issue of parsed.error.issues)
            errors[fieldOf(issue.path)] = texts[lang].errors[fieldOf(issue.path)] ?? issue.message;
          return renderManage(request, reply, token, lang, { errors, status: 400 });
        }
        if (MANAGE_TOKEN_PATTERN.test(token)) {
          const ok = await updateOwnNeeds(ctx, token, parsed.data).catch((err) => {
            if (err instanceof HttpProblem && err.problem.status < 500) return null;
            throw err;
          });
          if (ok) return renderManage(request, reply, token, lang, { message: texts[lang].saved });
        }
        return renderManage(request, reply, token, lang);
      },
    );

    app.post(
      `${MANAGE_PATH}/:token/antwoorden`,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Answers form post from the manage page',
          params: tokenParams,
          body: formBody,
          response: {
            200: htmlResponse('Saved'),
            400: htmlResponse('Errors next to the questions'),
            403: htmlResponse('Without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        if (!MANAGE_TOKEN_PATTERN.test(token)) return renderManage(request, reply, token, lang);
        if (!csrfOk(request)) {
          return renderManage(request, reply, token, lang, {
            errors: { form: texts[lang].errors.form! },
            status: 403,
          });
        }
        try {
          const { questions } = await viewOwnAnswers(ctx, token);
          await changeOwnAnswers(ctx, token, answersFromForm(questions, request.body));
        } catch (err) {
          if (!(err instanceof HttpProblem)) throw err;
          if (err.problem.status === 400) {
            return renderManage(request, reply, token, lang, {
              errors: answerErrors(lang, err.problem.errors ?? []),
              answerValues: request.body,
              status: 400,
            });
          }
          if (err.problem.status >= 500) throw err;
          return renderManage(request, reply, token, lang);
        }
        return renderManage(request, reply, token, lang, { message: answersSaved(lang) });
      },
    );

    app.post(
      `${MANAGE_PATH}/:token/sessies`,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Sessions form post from the manage page',
          params: tokenParams,
          body: formBody,
          response: {
            200: htmlResponse('Saved'),
            400: htmlResponse('Errors'),
            403: htmlResponse('Without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Sessions can no longer be changed'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = sessionMessages(lang);
        if (!MANAGE_TOKEN_PATTERN.test(token)) return renderManage(request, reply, token, lang);
        if (!csrfOk(request)) {
          return renderManage(request, reply, token, lang, {
            errors: { form: texts[lang].errors.form! },
            status: 403,
          });
        }
        try {
          await changeOwnSessions(ctx, token, sessionIdsFromForm(request.body));
          return renderManage(request, reply, token, lang, { message: t.saved });
        } catch (err) {
          if (!(err instanceof HttpProblem) || err.problem.status >= 500) throw err;
          const status = err.problem.status;
          if (status === 404) return renderManage(request, reply, token, lang);
          const message = status === 409 ? t.closed : t.invalid;
          return renderManage(request, reply, token, lang, { errors: { sessionIds: message }, status });
        }
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
            403: htmlResponse('Without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = texts[lang];
        if (!MANAGE_TOKEN_PATTERN.test(token)) return renderManage(request, reply, token, lang);
        if (!csrfOk(request)) {
          return renderManage(request, reply, token, lang, { errors: { form: t.errors.form! }, status: 403 });
        }
        if (request.body.confirm !== 'ja') {
          return renderManage(request, reply, token, lang, {
            errors: { confirm: t.errors.confirm! },
            status: 400,
          });
        }
        const done = await cancelOwnRegistration(ctx, token).catch((err) => {
          if (err instanceof HttpProblem && err.problem.status < 500) return null;
          throw err;
        });
        if (!done) return renderManage(request, reply, token, lang);
        return reply.type(HTML).send(messagePage({ lang, title: t.cancelledTitle, text: t.cancelledText }));
      },
    );

    const confirmPage = (request: FastifyRequest, reply: FastifyReply, token: string, lang: Language) =>
      reply
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .type(HTML)
        .send(
          confirmAddressPage({
            lang,
            action: `${CONFIRM_PATH}/${token}`,
            guard: guardFor(request, reply),
          }),
        );

    app.get(
      `${CONFIRM_PATH}/:token`,
      {
        schema: {
          tags,
          summary: 'Page behind the confirmation link: one button confirms the address',
          params: tokenParams,
          querystring: langQuery,
          response: {
            200: htmlResponse('The page with its button'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Used already'),
            410: htmlResponse('Expired'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = request.query.lang ?? 'nl';
        const t = texts[lang];
        const state = MANAGE_TOKEN_PATTERN.test(token)
          ? await confirmationLinkStateOf(ctx, token)
          : 'unknown';
        if (state === 'open') return confirmPage(request, reply, token, lang);
        const [status, title, text] =
          state === 'used'
            ? ([409, t.confirmUsedTitle, t.confirmUsedText] as const)
            : state === 'expired'
              ? ([410, t.confirmExpiredTitle, t.confirmExpiredText] as const)
              : ([404, t.confirmUnknownTitle, t.confirmUnknownText] as const);
        return reply.status(status).type(HTML).send(messagePage({ lang, title, text }));
      },
    );

    app.post(
      `${CONFIRM_PATH}/:token`,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Confirmation button post: the seat decision runs now',
          params: tokenParams,
          body: formBody,
          response: {
            201: htmlResponse('Seat or waitlist place, with the manage link'),
            200: htmlResponse('The address was registered meanwhile (the link was mailed to it)'),
            403: htmlResponse('The page again: it came without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Link used already, or the meeting closed or filled meanwhile'),
            410: htmlResponse('Link expired'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = texts[lang];
        const message = (status: 404 | 409 | 410, title: string, text: string) =>
          reply.status(status).type(HTML).send(messagePage({ lang, title, text }));
        if (!csrfOk(request)) return confirmPage(request, reply.status(403), token, lang);
        if (!MANAGE_TOKEN_PATTERN.test(token))
          return message(404, t.confirmUnknownTitle, t.confirmUnknownText);
        try {
          const result = await confirmRegistration(ctx, token);
          const meeting = (await findMeeting(ctx.db, result.meetingId))!;
          return reply
            .status(result.existing ? 200 : 201)
            .header('cache-control', 'no-store')
            .header('referrer-policy', 'no-referrer')
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
          if (!(err instanceof HttpProblem)) throw err;
          const type = err.problem.type;
          if (type.endsWith('/confirmation-link-unknown'))
            return message(404, t.confirmUnknownTitle, t.confirmUnknownText);
          if (type.endsWith('/confirmation-link-expired'))
            return message(410, t.confirmExpiredTitle, t.confirmExpiredText);
          if (type.endsWith('/confirmation-link-used'))
            return message(409, t.confirmUsedTitle, t.confirmUsedText);
          if (type.endsWith('/waitlist-full')) return message(409, t.full, t.waitlistFullText);
          if (err.problem.status === 409) return message(409, t.confirmTitle, t.confirmClosedText);
          throw err;
        }
      },
    );

    await scope.register(offerPageRoutes, { ctx, guardFor, csrfOk });

    /** The survey form, or a kind page when the link cannot be answered (any more). */
    async function renderSurvey(
      request: FastifyRequest,
      reply: FastifyReply,
      token: string,
      lang: Language,
      values: FormValues,
      errors: Record<string, string>,
      status: 200 | 400 | 403,
    ) {
      const t = texts[lang];
      const message = (code: 404 | 409 | 410, title: string, text: string) =>
        reply.status(code).type(HTML).send(messagePage({ lang, title, text }));
      if (!MANAGE_TOKEN_PATTERN.test(token)) return message(404, t.surveyUnknownTitle, t.surveyUnknownText);
      try {
        const survey = await openSurvey(ctx, token);
        return reply
          .status(status)
          .header('cache-control', 'no-store')
          .header('referrer-policy', 'no-referrer')
          .type(HTML)
          .send(
            surveyPage({
              lang,
              meetingTitle: survey.meetingTitle,
              action: `${SURVEY_PATH}/${token}`,
              guard: guardFor(request, reply),
              values,
              errors,
            }),
          );
      } catch (err) {
        if (!(err instanceof HttpProblem)) throw err;
        if (err.problem.status === 409) return message(409, t.surveyAnsweredTitle, t.surveyAnsweredText);
        if (err.problem.status === 410) return message(410, t.surveyClosedTitle, t.surveyClosedText);
        return message(404, t.surveyUnknownTitle, t.surveyUnknownText);
      }
    }

    app.get(
      `${SURVEY_PATH}/:token`,
      {
        schema: {
          tags,
          summary: 'The feedback survey behind the mailed link',
          params: tokenParams,
          querystring: langQuery,
          response: {
            200: htmlResponse('The survey'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Answered already'),
            410: htmlResponse('Survey closed'),
          },
        },
      },
      async (request, reply) =>
        renderSurvey(request, reply, request.params.token, request.query.lang ?? 'nl', {}, {}, 200),
    );

    app.post(
      `${SURVEY_PATH}/:token`,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Survey form post',
          params: tokenParams,
          body: formBody,
          response: {
            201: htmlResponse('Thank you'),
            400: htmlResponse('The survey again, with errors'),
            403: htmlResponse('The survey again: it came without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Answered already'),
            410: htmlResponse('Survey closed'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const form = request.body;
        const lang = languageSchema.catch('nl').parse(form.language);
        const t = texts[lang];
        if (!csrfOk(request))
          return renderSurvey(request, reply, token, lang, form, { form: t.errors.form! }, 403);
        const parsed = surveyAnswerBody.safeParse({
          rating: form.rating ? Number(form.rating) : undefined,
          mostUseful: form.mostUseful?.trim() || null,
          suggestions: form.suggestions?.trim() || null,
          giveName: form.giveName === 'ja',
          language: lang,
        });
        if (!parsed.success) {
          const errors: Record<string, string> = {};
          for (const issue of parsed.error.issues) {
            const name = String(issue.path[0] ?? 'form');
            errors[name] ??=
              name === 'rating' ? t.surveyRatingError : (t.errors.dietaryNeeds ?? issue.message);
          }
          return renderSurvey(request, reply, token, lang, form, errors, 400);
        }
        if (!MANAGE_TOKEN_PATTERN.test(token)) return renderSurvey(request, reply, token, lang, {}, {}, 200);
        try {
          await answerSurvey(ctx, token, parsed.data);
        } catch (err) {
          if (err instanceof HttpProblem && err.problem.status < 500)
            return renderSurvey(request, reply, token, lang, {}, {}, 200);
          throw err;
        }
        return reply
          .status(201)
          .type(HTML)
          .send(messagePage({ lang, title: t.surveyThanksTitle, text: t.surveyThanksText }));
      },
    );

    app.get(
      RESEND_PATH,
      {
        schema: {
          tags,
          summary: 'Page to ask for the manage link again',
          querystring: langQuery,
          response: { 200: htmlResponse('The form') },
        },
      },
      async (request, reply) => {
        const lang = request.query.lang ?? 'nl';
        return reply
          .type(HTML)
          .send(resendPage({ lang, guard: guardFor(request, reply), values: {}, errors: {} }));
      },
    );

    app.post(
      RESEND_PATH,
      {
        bodyLimit: REGISTRATION_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Form post: mail fresh manage links to the address',
          description:
            'The same page whether or not the address is registered. Every live registration of the address for ' +
            'a meeting still to come gets a new link, mailed to the address; the old links stop working.',
          body: formBody,
          response: {
            200: htmlResponse('Done (whatever the address)'),
            400: htmlResponse('The form again: not an email address'),
            403: htmlResponse('The form again: it came without its CSRF field and cookie'),
            429: htmlResponse('Too many requests from this client'),
          },
        },
      },
      async (request, reply) => {
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = texts[lang];
        const values = { email: request.body.email?.trim() };
        const again = (errors: Record<string, string>, status: 400 | 403) =>
          reply
            .status(status)
            .type(HTML)
            .send(resendPage({ lang, guard: guardFor(request, reply), values, errors }));
        if (!csrfOk(request)) return again({ form: t.errors.form! }, 403);
        const parsed = manageLinkRequestBody.safeParse(values);
        if (!parsed.success) return again({ email: t.errors.email! }, 400);
        try {
          await requestManageLinks(ctx, parsed.data.email, { client: request.ip });
        } catch (err) {
          if (err instanceof HttpProblem && err.problem.status === 429) {
            return busy(reply, lang);
          }
          throw err;
        }
        return reply.type(HTML).send(messagePage({ lang, title: t.resendDoneTitle, text: t.resendDoneText }));
      },
    );

    if (forms.proofOfWork) {
      const pow = forms.proofOfWork;
      app.get(
        POW_CHALLENGE_PATH,
        {
          schema: {
            tags,
            summary: 'A proof-of-work challenge for the registration form (ALTCHA)',
            response: {
              200: z
                .object({
                  parameters: z.object({
                    algorithm: z.string(),
                    nonce: z.string(),
                    salt: z.string(),
                    cost: z.number(),
                    keyLength: z.number(),
                    keyPrefix: z.string(),
                    keySignature: z.string().optional(),
                    expiresAt: z.number().optional(),
                  }),
                  signature: z.string().optional(),
                })
                .describe('A signed ALTCHA v2 challenge'),
            },
          },
        },
        async (_request, reply) => reply.header('cache-control', 'no-store').send(await pow.challenge()),
      );
    }
  });
};
