import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { CONTENT_SECURITY_POLICY } from '../src/sessions/session.plugin.ts';
import { adminAuth, PASSWORD, people, startConsoleSystem, Visitor } from './harness.ts';

const stack = await startConsoleSystem();
t.teardown(() => stack.close());
const { system } = stack;

interface Deal {
  id: string;
  name: string;
  phase: string;
  version: number;
}
const deals = async (): Promise<Deal[]> =>
  (await system.call('deal_tracking', 'GET', '/deals?limit=500', { headers: adminAuth })).body.items;
const dealById = async (id: string): Promise<Deal> =>
  (await system.call('deal_tracking', 'GET', `/deals/${id}`, { headers: adminAuth })).body;

t.test('pages carry a strict CSP, no inline script or style, and need a login', async (t) => {
  const visitor = new Visitor(stack.url);
  const login = await visitor.get('/login');
  t.equal(login.status, 200);
  t.equal(login.headers.get('content-security-policy'), CONTENT_SECURITY_POLICY);
  t.notMatch(CONTENT_SECURITY_POLICY, /unsafe-inline/);
  t.notMatch(login.text, /<script>|<style|style="|onclick=/i, 'no inline code');
  t.match(login.text, /<html lang="nl">/);
  const overview = await visitor.get('/');
  t.equal(overview.status, 303);
  t.equal(overview.headers.get('location'), '/login?next=%2F');
  t.equal((await visitor.get('/language?to=en&back=/login')).status, 303);
  t.match((await visitor.get('/login')).text, /<html lang="en">[\s\S]*Log in/);
});

t.test('login: cookie flags, wrong password, CSRF, lockout, audit', async (t) => {
  const visitor = new Visitor(stack.url);
  const noToken = await visitor.submit(
    '/login',
    '/login',
    { email: people.lezer.email, password: PASSWORD },
    false,
  );
  t.equal(noToken.status, 403, 'login without the CSRF token is refused');
  t.notOk(visitor.cookies.has('cd_session'));

  const ok = await visitor.login(people.lezer.email);
  t.equal(ok.status, 303);
  const setCookie = ok.headers.getSetCookie().find((c) => c.startsWith('cd_session='));
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Lax/i);
  t.notMatch(setCookie, /Secure/i, 'over http the cookie cannot be Secure');
  t.equal((await visitor.get('/deals')).status, 200);
  const out = await visitor.submit('/deals', '/logout', {});
  t.equal(out.status, 303);
  t.equal((await visitor.get('/deals')).status, 303, 'logged out: back to the login page');

  const guesser = new Visitor(stack.url);
  for (let i = 0; i < 2; i++)
    t.equal((await guesser.login(people.redacteur.email, 'wrong password!')).status, 401);
  t.equal(
    (await guesser.login(people.redacteur.email, 'wrong password!')).status,
    423,
    'third failure locks',
  );
  const locked = await guesser.login(people.redacteur.email, PASSWORD);
  t.equal(locked.status, 423, 'even the right password is refused while locked');
  t.notOk(guesser.cookies.has('cd_session'));
  await stack.console.ctx.db
    .updateTable('staff_account')
    .set({ locked_until: null, failed_logins: 0 })
    .where('email', '=', people.redacteur.email)
    .execute();

  const trail = await listAudit(stack.console.ctx.db, 50);
  t.ok(trail.some((e) => e.action === 'login' && e.outcome === 'ok' && e.who === people.lezer.email && e.ip));
  t.ok(trail.some((e) => e.action === 'logout' && e.who.includes(people.lezer.name)));
  t.ok(
    trail.some((e) => e.action === 'login' && e.outcome === 'refused' && e.who === people.redacteur.email),
  );
});
