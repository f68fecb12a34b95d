// Single sign-on against a real OpenID provider (the `oidc-provider` package, started here), in Debian's
// chromium: authorization code with PKCE, the identity mapped to an account by e-mail, unknown, unverified
// and disabled identities refused, a forged callback refused, and no single sign-on when it is not configured.
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { freePort, startTestService } from '@citydeals/testkit';
import { launchChromium, seriousViolations } from '@citydeals/testkit/browser';
import Provider from 'oidc-provider';
import type { Page } from 'playwright-core';
import t from 'tap';
import { listAudit } from '../src/audit/audit.repository.ts';
import { loadServiceConfig } from '../src/config.ts';
import { startService } from '../src/service.ts';
import { people, startConsoleSystem, Visitor } from './harness.ts';

// Services as processes and a browser on a shared 2-core machine: far slower than tap's default limit.
t.setTimeout(600_000);

const [providerPort, consolePort] = [await freePort(), await freePort()];
const issuer = `http://127.0.0.1:${providerPort}`;
const consoleUrl = `http://127.0.0.1:${consolePort}`;
const CLIENT_SECRET = 'a client secret of the console at the provider';

// The provider's development login takes any login name as the subject; `unverified:` in front of an address
// makes the provider say the address is not verified.
const provider = new Provider(issuer, {
  clients: [
    {
      client_id: 'citydeals-console',
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${consoleUrl}/login/sso/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  async findAccount(_ctx, sub) {
    const unverified = sub.startsWith('unverified:');
    const email = unverified ? sub.slice('unverified:'.length) : sub;
    return {
      accountId: sub,
      async claims() {
        return { sub, email, email_verified: !unverified, name: email.split('@')[0] };
      },
    };
  },
  cookies: { keys: ['sso test cookie key'] },
});
const providerServer: Server = provider.listen(providerPort);
t.teardown(() => new Promise<void>((resolve) => providerServer.close(() => resolve())));

const stack = await startConsoleSystem({
  PORT: String(consolePort),
  PUBLIC_BASE_URL: consoleUrl,
  OIDC_ISSUER: issuer,
  OIDC_CLIENT_ID: 'citydeals-console',
  OIDC_CLIENT_SECRET: CLIENT_SECRET,
  OIDC_LABEL: 'Testorganisatie',
});
t.teardown(() => stack.close());
const db = stack.console.ctx.db;

const browser = await launchChromium();
t.teardown(() => browser.close());
const SCREENSHOTS = new URL('../../../test-artifacts/screenshots/', import.meta.url);
await mkdir(SCREENSHOTS, { recursive: true });

/** Through the console's button to the provider's login and consent, and back. */
async function signOnAs(page: Page, login: string) {
  await page.goto(`${consoleUrl}/login`);
  await page.getByRole('link', { name: 'Inloggen met Testorganisatie' }).click();
  await page.waitForURL(`${issuer}/**`);
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  const consent = page.getByRole('button', { name: 'Continue' });
  await Promise.race([consent.waitFor().then(() => consent.click()), page.waitForURL(`${consoleUrl}/**`)]);
  await page.waitForURL(`${consoleUrl}/**`);
}

t.test(
  'the authorization request carries PKCE (S256), state and nonce; the verifier stays here',
  async (t) => {
    const visitor = new Visitor(consoleUrl);
    const start = await visitor.get('/login/sso');
    t.equal(start.status, 303);
    const to = new URL(start.headers.get('location')!);
    t.equal(to.origin, issuer);
    t.equal(to.searchParams.get('code_challenge_method'), 'S256');
    t.match(to.searchParams.get('code_challenge'), /^[\w-]{43}$/);
    t.ok(to.searchParams.get('state') && to.searchParams.get('nonce'));
    t.equal(to.searchParams.get('redirect_uri'), `${consoleUrl}/login/sso/callback`);
    t.notOk(to.searchParams.has('code_verifier'));
    const cookie = start.headers.getSetCookie().find((c) => c.startsWith('cd_sso_state='));
    t.match(cookie, /HttpOnly/i);
    t.match(cookie, /SameSite=Lax/i);
    t.equal(visitor.cookies.get('cd_sso_state'), to.searchParams.get('state'));
  },
);

t.test('a person with an account signs on through the provider', async (t) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  t.teardown(() => context.close());
  const page = await context.newPage();
  await page.goto(`${consoleUrl}/login`);
  t.same(await seriousViolations(page), [], 'the login page with single sign-on: no serious axe violation');
  await page.screenshot({ path: new URL('login-sso-desktop.png', SCREENSHOTS).pathname, fullPage: true });
  const attempts = () =>
    db
      .selectFrom('sso_attempt')
      .select('state_hash')
      .execute()
      .then((r) => r.length);
  const waiting = await attempts();
  await signOnAs(page, people.redacteur.email);
  t.equal(new URL(page.url()).pathname, '/', 'a redacteur lands on the overview');
  await page.getByText(`Ingelogd als ${people.redacteur.name}`).waitFor();
  const [entry] = (await listAudit(db, 20)).filter((e) => e.action === 'login.sso');
  t.match(entry, { outcome: 'ok', who: `${people.redacteur.name} <${people.redacteur.email}>` });
  t.match(entry!.detail, { issuer, subject: people.redacteur.email });
  t.equal(await attempts(), waiting, 'the attempt is used up');

  // The session is the console's own: logging out ends it, as for a password login.
  await page.getByRole('button', { name: 'Uitloggen' }).click();
  await page.waitForURL(`${consoleUrl}/login`);
});

t.test('unknown, unverified and disabled identities are refused, and nothing is created', async (t) => {
  const accounts = () => db.selectFrom('staff_account').select('id').orderBy('id').execute();
  const accountsBefore = await accounts();
  const tries = {
    unknown: 'onbekend@elders.example.org',
    unverified: `unverified:${people.lezer.email}`,
    disabled: people.deur.email,
  };
  await db
    .updateTable('staff_account')
    .set({ disabled_at: new Date() })
    .where('email', '=', people.deur.email)
    .execute();
  t.teardown(() =>
    db
      .updateTable('staff_account')
      .set({ disabled_at: null })
      .where('email', '=', people.deur.email)
      .execute(),
  );
  for (const [what, login] of Object.entries(tries)) {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await signOnAs(page, login);
    t.equal(new URL(page.url()).pathname, '/login/sso/callback', `${what}: stays on the refusal`);
    await page.getByRole('alert').waitFor();
    t.match(await page.getByRole('alert').textContent(), /geweigerd/);
    if (what === 'unknown')
      await page.screenshot({ path: new URL('sso-refused-phone.png', SCREENSHOTS).pathname });
    const cookies = await context.cookies(consoleUrl);
    t.notOk(
      cookies.some((c) => c.name === 'cd_session'),
      `${what}: no session`,
    );
    await context.close();
  }
  t.same(await accounts(), accountsBefore, 'no account was created');
  const refused = (await listAudit(db, 20)).filter(
    (e) => e.action === 'login.sso' && e.outcome === 'refused',
  );
  t.same(refused.map((e) => (e.detail as { why: string }).why).sort(), [
    'account disabled',
    'email-not-verified',
    'no account with this e-mail address',
  ]);
});

t.test('a callback without its state cookie, or replayed, is refused', async (t) => {
  const visitor = new Visitor(consoleUrl);
  const forged = await visitor.get('/login/sso/callback?code=stolen&state=guessed');
  t.equal(forged.status, 403);
  t.notOk(visitor.cookies.has('cd_session'));
  const start = await visitor.get('/login/sso');
  const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
  const wrongCode = await visitor.get(`/login/sso/callback?code=not-issued&state=${state}`);
  t.equal(wrongCode.status, 403, 'a code the provider never issued');
  visitor.cookies.set('cd_sso_state', state);
  t.equal(
    (await visitor.get(`/login/sso/callback?code=again&state=${state}`)).status,
    403,
    'the state is single use',
  );
});

t.test('off by default: no button, no route', async (t) => {
  const plain = await startTestService(
    (env) => startService(loadServiceConfig({ ...env, CONSOLE_SIGNING_KEY: stack.keys.privatePem })),
    (s) => s.stop(),
  );
  t.teardown(() => plain.close());
  const login = await plain.service.http.inject('/login');
  t.notMatch(login.body, /login\/sso/);
  t.equal((await plain.service.http.inject('/login/sso')).statusCode, 404);
});
