import { type Language, languageSchema } from '@citydeals/contracts';
import { HttpProblem } from '@citydeals/service-kit';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ServiceContext } from '../context.ts';
import { MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';
import { OFFER_PATH } from '../offers/make-offers.ts';
import type { OfferAnswer } from '../offers/offer.rules.ts';
import { answerOffer, viewOffer } from '../offers/offer.service.ts';
import { offerTexts } from './offer-page.texts.ts';
import { offerPage } from './offer-page.views.ts';
import { type FormGuard, messagePage } from './page.views.ts';

const HTML = 'text/html; charset=utf-8';
const htmlResponse = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string().meta({ example: '<!doctype html><html lang="nl">…' }) } },
});
const tokenParams = z.object({ token: z.string().min(1).max(100) });
const langQuery = z.object({ lang: languageSchema.optional().describe('Page language; Dutch by default') });
const formBody = z
  .record(z.string(), z.string())
  .describe('An HTML form post (application/x-www-form-urlencoded)');

/** What the page routes share with this one: the context and the CSRF guard of the form scope. */
export interface OfferPageOptions {
  ctx: ServiceContext;
  guardFor(request: FastifyRequest, reply: FastifyReply): FormGuard;
  csrfOk(request: FastifyRequest<{ Body: Record<string, string> }>): boolean;
}

/**
 * The page behind the waitlist offer mail (docs/waitlist-offers.md): GET shows the seat and the deadline
 * and changes nothing; the accept and decline buttons post. Every way an answer cannot be taken is a kind
 * page with its own status: unknown 404, too late 410, closed otherwise 409.
 */
export const offerPageRoutes: FastifyPluginAsync<OfferPageOptions> = async (
  scope,
  { ctx, guardFor, csrfOk },
) => {
  const app = scope.withTypeProvider<ZodTypeProvider>();
  const tags = ['pages'];
  const message = (reply: FastifyReply, lang: Language, status: number, title: string, text: string) =>
    reply
      .status(status)
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .type(HTML)
      .send(messagePage({ lang, title, text }));

  /** The kind page for an answer that cannot be taken; rethrows what is not about the offer. */
  function refusal(reply: FastifyReply, lang: Language, err: unknown) {
    if (!(err instanceof HttpProblem)) throw err;
    const t = offerTexts[lang];
    if (err.problem.type.endsWith('/meeting-cancelled')) {
      return message(reply, lang, 409, t.cancelledTitle, t.cancelledText);
    }
    if (err.problem.status === 410) return message(reply, lang, 410, t.expiredTitle, t.expiredText);
    if (err.problem.status === 409) return message(reply, lang, 409, t.closedTitle, t.closedText);
    if (err.problem.status === 404) return message(reply, lang, 404, t.unknownTitle, t.unknownText);
    throw err;
  }

  async function render(
    request: FastifyRequest,
    reply: FastifyReply,
    token: string,
    lang: Language | undefined,
    status: number,
    error?: string,
  ) {
    const chosen = lang ?? 'nl';
    if (!MANAGE_TOKEN_PATTERN.test(token)) {
      return message(reply, chosen, 404, offerTexts[chosen].unknownTitle, offerTexts[chosen].unknownText);
    }
    try {
      const offer = await viewOffer(ctx, token);
      const pageLang = lang ?? offer.language;
      const t = offerTexts[pageLang];
      // Whatever became of the offer, a cancelled meeting is the news its reader needs.
      if (offer.meeting.status === 'cancelled') {
        return message(reply, pageLang, 409, t.cancelledTitle, t.cancelledText);
      }
      if (offer.status === 'expired') return message(reply, pageLang, 410, t.expiredTitle, t.expiredText);
      if (offer.status === 'accepted') return message(reply, pageLang, 200, t.acceptedTitle, t.acceptedText);
      if (offer.status !== 'open') return message(reply, pageLang, 409, t.closedTitle, t.closedText);
      return reply
        .status(status)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .type(HTML)
        .send(
          offerPage({
            lang: pageLang,
            action: `${OFFER_PATH}/${token}`,
            guard: guardFor(request, reply),
            meeting: {
              title: offer.meeting.title,
              startsAt: new Date(offer.meeting.startsAt),
              endsAt: new Date(offer.meeting.endsAt),
              timeZone: offer.meeting.timeZone,
            },
            expiresAt: new Date(offer.expiresAt),
            ...(error ? { error } : {}),
          }),
        );
    } catch (err) {
      return refusal(reply, chosen, err);
    }
  }

  app.get(
    `${OFFER_PATH}/:token`,
    {
      schema: {
        tags,
        summary: 'The waitlist offer behind the mailed link: what is held, until when, and two buttons',
        description: 'Opening it changes nothing (mail scanners follow links); the buttons post.',
        params: tokenParams,
        querystring: langQuery,
        response: {
          200: htmlResponse('The offer with its buttons, or the confirmation of a seat accepted already'),
          404: htmlResponse('Unknown link'),
          409: htmlResponse('Declined, withdrawn, or the meeting closed or cancelled'),
          410: htmlResponse('The time to accept is over'),
        },
      },
    },
    async (request, reply) => render(request, reply, request.params.token, request.query.lang, 200),
  );

  const answerRoute = (suffix: string, answer: OfferAnswer, summary: string) =>
    app.post(
      `${OFFER_PATH}/:token${suffix}`,
      {
        schema: {
          tags,
          summary,
          params: tokenParams,
          body: formBody,
          response: {
            200: htmlResponse('Done: the seat is confirmed (accept) or passed on (decline)'),
            403: htmlResponse('The offer again: the post came without its CSRF field and cookie'),
            404: htmlResponse('Unknown link'),
            409: htmlResponse('Answered otherwise, withdrawn, or the meeting closed or cancelled'),
            410: htmlResponse('The time to answer is over; nothing changed'),
          },
        },
      },
      async (request, reply) => {
        const { token } = request.params;
        const lang = languageSchema.catch('nl').parse(request.body.language);
        const t = offerTexts[lang];
        if (!csrfOk(request)) return render(request, reply, token, lang, 403, t.formError);
        if (!MANAGE_TOKEN_PATTERN.test(token))
          return message(reply, lang, 404, t.unknownTitle, t.unknownText);
        try {
          await answerOffer(ctx, token, answer);
        } catch (err) {
          return refusal(reply, lang, err);
        }
        return answer === 'accept'
          ? message(reply, lang, 200, t.acceptedTitle, t.acceptedText)
          : message(reply, lang, 200, t.declinedTitle, t.declinedText);
      },
    );
  answerRoute('', 'accept', 'Offer accept button post: the seat becomes yours');
  answerRoute('/afslaan', 'decline', 'Offer decline button post: the seat goes to the next in line');
};
