// The raw HTTP baseline: fastify answering a JSON POST with one INSERT through pg, nothing else.
import Fastify from 'fastify';
import pg from 'pg';

const [databaseUrl, port] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(
  'create table if not exists raw_registration (id bigint generated always as identity primary key, meeting_id text not null, email text not null, body jsonb not null)',
);
const app = Fastify();
app.post<{ Params: { id: string }; Body: { email: string } }>(
  '/meetings/:id/registrations',
  async (request, reply) => {
    await pool.query('insert into raw_registration (meeting_id, email, body) values ($1, $2, $3)', [
      request.params.id,
      request.body.email,
      request.body,
    ]);
    return reply.status(201).send({ status: 'confirmed' });
  },
);
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await app.close();
  await pool.end();
  process.exit(0);
});
