import { openApiLintErrors } from '@citydeals/testkit';
import t from 'tap';
import { configSchema } from '../src/config.ts';
import { startNotification } from './harness.ts';

t.test(
  'the service starts on its own schema and stream, answers health and docs, and stops cleanly',
  async (t) => {
    const ctx = await startNotification();
    t.teardown(() => ctx.close());
    const { http, runtime } = ctx.service;
    t.equal(runtime.schema, 'notification');
    t.equal((await http.inject('/health/ready')).statusCode, 200);
    const doc = (await http.inject('/openapi.json')).json();
    t.match(doc.info.title, /service/);
    t.same(await openApiLintErrors(doc), [], 'the document passes Redocly’s recommended rules with no error');
    t.equal((await http.inject('/docs/')).statusCode, 200);
    t.ok(await runtime.jsm.streams.info(runtime.ns.streamName(runtime.stream)));
    t.equal(configSchema.parse({ DATABASE_URL: 'postgres://x@h/db' }).PORT, 3003, 'default port');
  },
);
