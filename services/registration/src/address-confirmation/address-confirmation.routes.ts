import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { MANAGE_TOKEN_PATTERN } from '../manage-links/manage-token.ts';
import { registrationResultSchema } from '../registrations/registration.schemas.ts';
import { confirmRegistration } from './address-confirmation.service.ts';

const confirmTokenParams = z.object({
  token: z
    .string()
    .regex(MANAGE_TOKEN_PATTERN, 'not a confirmation token')
    .describe('The secret from the confirmation link'),
});

export const addressConfirmationRoutes: Routes = async (fastify, { ctx }) => {
  const app = fastify.withTypeProvider<ZodTypeProvider>();

  app.post(
    '/registrations/confirmations/:token',
    {
      schema: {
        tags: ['self-service'],
        summary: 'Confirm the address of a registration that waits for it',
        description:
          'For meetings that ask for the address to be confirmed: the token is the secret of the link mailed ' +
          'to the address. Only now is the seat decided: 201 with `confirmed` or `waitlisted` and the manage ' +
          'link, as a registration without confirmation answers (200 with `existing: true` when the address ' +
          'was registered meanwhile). The link works once: a second use answers 409, an expired link 410 and ' +
          'an unknown one 404; a meeting that closed or filled its waitlist meanwhile answers 409.',
        params: confirmTokenParams,
        response: {
          201: registrationResultSchema,
          200: registrationResultSchema,
          ...problemResponses(400, 404, 409, 410),
        },
      },
    },
    async (request, reply) => {
      const result = await confirmRegistration(ctx, request.params.token);
      return reply
        .status(result.existing ? 200 : 201)
        .header('cache-control', 'no-store')
        .header('referrer-policy', 'no-referrer')
        .send(result);
    },
  );
};
