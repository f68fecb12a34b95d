import { problemResponses } from '@citydeals/service-kit';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { eraseByEmail } from './erasure.service.ts';

export const erasureRoutes: Routes = async (fastify, { ctx, config }) => {
  const admin = fastify.requireScope('admin');
  const digestKey = config.PERSON_DIGEST_KEY;
  fastify.withTypeProvider<ZodTypeProvider>().post(
    '/admin/erasures',
    {
      onRequest: admin,
      schema: {
        tags: ['privacy (admin)'],
        security: [{ adminKey: [] }],
        summary: 'Erase a person’s personal data',
        description:
          'Anonymises every registration of the email address (name, address, organisation, needs, manage link) ' +
          'and announces registration.attendee.erased for each, so the other services erase theirs and the ' +
          'registration’s events are purged from the event stream; then registration.person.erased, so that ' +
          'deal-tracking removes the person as a deal contact. A seat for a meeting still to come is given up ' +
          'and the next in line promoted. Erasing an unknown address erases no registration and is not an error.',
        body: z
          .object({ email: z.email().max(254) })
          .meta({ example: { email: 'sanne.devries@example.org' } }),
        response: {
          200: z
            .object({ erasedRegistrationIds: z.array(z.uuid()) })
            .meta({ example: { erasedRegistrationIds: ['01936b2c-1a2b-7d4e-8f60-718293a4b5c6'] } }),
          ...problemResponses(400, 401, 403),
        },
      },
    },
    async (request) => ({ erasedRegistrationIds: await eraseByEmail(ctx, request.body.email, digestKey) }),
  );
};
