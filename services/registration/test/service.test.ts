import { createHash } from 'node:crypto';
import { openApiLintErrors } from '@citydeals/testkit';
import t from 'tap';
import { configSchema } from '../src/config.ts';
import {
  createMeeting,
  formPost,
  openForm,
  solveProofOfWork,
  startRegistration,
  TestClock,
} from './harness.ts';

// The first two tests read the same service with the default settings: one start (and database) for both.
const ctx = await startRegistration(new TestClock(new Date()));
t.teardown(() => ctx.close());

t.test(
  'the service starts on its own schema and stream, answers health and docs, and stops cleanly',
  async (t) => {
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

t.test(
  'pages: the CSP allows exactly their inline blocks; personal pages are no-store, no-referrer',
  async (t) => {
    const ctx = await startRegistration(new TestClock(new Date('2027-01-10T10:00:00Z')), {
      PROOF_OF_WORK_COST: '1',
      PROOF_OF_WORK_MAX_COUNTER: '20',
    });
    t.teardown(() => ctx.close());
    const { http } = ctx.service;
    const meeting = await createMeeting(ctx.service);

    /** Every inline style or script of the page is allowed by the page's own policy, and nothing else is. */
    const checkPage = (
      what: string,
      res: { headers: Record<string, unknown>; body: string },
      styleAttributes = false,
    ) => {
      const csp = String(res.headers['content-security-policy'] ?? '');
      const directive = (name: string) => csp.split(';').find((d) => d.trim().startsWith(`${name} `)) ?? '';
      t.match(csp, /frame-ancestors 'none'/, `${what}: frame-ancestors 'none'`);
      t.match(directive('script-src'), /^\s*script-src 'self'/, `${what}: scripts from this origin`);
      t.notMatch(directive('script-src'), /unsafe/, `${what}: no inline or eval script`);
      if (!styleAttributes) t.notMatch(csp, /unsafe-inline/, `${what}: no 'unsafe-inline'`);
      t.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`);
      t.ok(res.headers['referrer-policy'], `${what}: a Referrer-Policy`);
      for (const [, tag, text] of res.body.matchAll(/<(style|script)(?:\s[^>]*)?>([\s\S]*?)<\/\1>/g)) {
        if (tag === 'script' && text!.trim() === '') continue;
        const hash = createHash('sha256').update(text!).digest('base64');
        t.match(csp, `'sha256-${hash}'`, `${what}: its inline ${tag} is allowed by hash`);
      }
      t.notMatch(res.body, /\sstyle="|\son[a-z]+="/i, `${what}: no inline style or event attributes`);
    };

    const page = await http.inject(`/bijeenkomsten/${meeting.slug}`);
    t.equal(page.statusCode, 200);
    checkPage('meeting page', page);
    t.not(page.headers['cache-control'], 'no-store', 'the public page may be cached');
    checkPage('event catalogue', await http.inject('/events'));
    // Swagger UI styles its highlighted examples with style attributes: allowed there, and only there.
    checkPage('API docs', await http.inject('/docs/'), true);

    // As a browser sends the form: with its CSRF token and a solved proof of work.
    const opened = await openForm(ctx.service, `/bijeenkomsten/${meeting.slug}`);
    const confirmation = await http.inject(
      formPost(`/bijeenkomsten/${meeting.slug}/aanmelden`, opened.cookie, {
        csrf: opened.csrf,
        altcha: await solveProofOfWork(ctx.service),
        name: 'Iris',
        email: 'iris@example.org',
        organisation: 'Gemeente Delft',
        role: 'projectsecretaris',
        language: 'nl',
      }),
    );
    t.equal(confirmation.statusCode, 201);
    checkPage('confirmation page', confirmation);
    const link = /href="(https:\/\/cop\.example\.org\/aanmelding\/beheren\/[^"]+)"/.exec(
      confirmation.body,
    )?.[1];
    t.ok(link, 'the confirmation page shows the personal link');
    const manage = await http.inject(new URL(link!).pathname);
    checkPage('manage page', manage);
    const token = new URL(link!).pathname.split('/').at(-1);
    const personal = [
      ['confirmation page', confirmation],
      ['manage page', manage],
      ['manage API', await http.inject(`/registrations/manage/${token}`)],
      ['calendar of the registration', await http.inject(`/registrations/manage/${token}/calendar.ics`)],
    ] as const;
    for (const [what, res] of personal) {
      t.equal(res.headers['cache-control'], 'no-store', `${what}: no-store`);
      t.equal(res.headers['referrer-policy'], 'no-referrer', `${what}: no-referrer`);
    }
  },
);
