// The bare baseline of a page: fastify answering GET / with a fixed HTML body read from a file (the size of
// the page it stands beside), nothing else.
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const [file, port] = process.argv.slice(2);
const body = readFileSync(file!, 'utf8');
const app = Fastify();
app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').send(body));
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('ready\n');
process.on('SIGTERM', async () => {
  await app.close();
  process.exit(0);
});
