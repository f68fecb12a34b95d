import { dealKindSchema, dealPhaseSchema } from '@citydeals/contracts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Routes } from '../context.ts';
import { listDeals } from './deal.repository.ts';

export const dealSchema = z
  .object({ id: z.uuid(), name: z.string(), kind: dealKindSchema, phase: dealPhaseSchema })
  .meta({
    example: {
      id: '01936a10-2b3c-7d4e-8f50-6a7b8c9d0e1f',
      name: 'Fietsen voor Iedereen',
      kind: 'city_deal',
      phase: 'building',
    },
  });

export const dealRoutes: Routes = async (fastify, { ctx }) => {
  fastify.withTypeProvider<ZodTypeProvider>().get(
    '/deals',
    {
      schema: {
        tags: ['registrations'],
        summary: 'Deals a registration can name',
        description: 'The local projection of deal-tracking’s deals, by name.',
        response: { 200: z.object({ items: z.array(dealSchema) }) },
      },
    },
    async () => ({
      items: (await listDeals(ctx.db)).map((d) => ({
        id: d.id,
        name: d.name,
        kind: dealKindSchema.parse(d.kind),
        phase: dealPhaseSchema.parse(d.phase),
      })),
    }),
  );
};
