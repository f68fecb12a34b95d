import { shutdown } from '@citydeals/service-kit';
import { openApiLintErrors, startTestService } from '@citydeals/testkit';
import t from 'tap';
import { configSchema, loadServiceConfig } from '../src/config.ts';
import { startService } from '../src/service.ts';

t.test(
  'the service starts on its own schema and stream, answers health and docs, and stops cleanly',
  async (t) => {
    const ctx = await startTestService((env) => startService(loadServiceConfig(env)), shutdown);
    t.teardown(() => ctx.close());
    const { http, runtime } = ctx.service;
    t.equal(runtime.schema, 'registration');
    t.equal((await http.inject('/health/ready')).statusCode, 200);
    const doc = (await http.inject('/openapi.json')).json();
    t.match(doc.info.title, /service/);
    t.same(await openApiLintErrors(doc), [], 'the document passes Redocly’s recommended rules with no error');
    t.equal((await http.inject('/docs/')).statusCode, 200);
    t.ok(await runtime.jsm.streams.info(runtime.ns.streamName(runtime.stream)));
    t.equal(configSchema.parse({ DATABASE_URL: 'postgres://x@h/db' }).PORT, 3001, 'default port');
  },
);

t.test('the OpenAPI document describes every route with a summary, tags and responses', async (t) => {
  const ctx = await startTestService((env) => startService(loadServiceConfig(env)), shutdown);
  t.teardown(() => ctx.close());
  const doc = (await ctx.service.http.inject('/openapi.json')).json();
  const operations = Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );
  const mine = operations.filter(
    ({ path }) =>
      !path.startsWith('/health') && path !== '/metrics' && !path.startsWith('/admin/dead-letters'),
  );
  t.ok(mine.length >= 25, `${mine.length} operations`);
  for (const { path, method, op } of mine) {
    t.ok(op.summary, `${method} ${path} has a summary`);
    t.ok(op.tags?.length, `${method} ${path} has tags`);
    t.ok(
      op.responses?.['200'] ?? op.responses?.['201'] ?? op.responses?.['202'],
      `${method} ${path} documents its answer`,
    );
  }
  const register = doc.paths['/meetings/{id}/registrations'].post;
  t.ok(register.requestBody.content['application/json'].schema, 'the registration body is documented');
  t.ok(JSON.stringify(register).includes('sanne.devries@example.org'), 'with an example');
});
