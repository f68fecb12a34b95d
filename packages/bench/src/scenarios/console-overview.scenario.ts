import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, freePort, uniqueName } from '@citydeals/testkit';
import { repoRoot, runLoad, type Spawned, spawnTs } from '../processes.ts';
import { type BenchRow, round } from '../report.ts';
import { type RunningService, removeNamespace, startService, stopService } from '../services.ts';
import { assertClean, DURATION_SECONDS } from './registration.scenario.ts';

const SESSIONS = 20;
/** Each of the 20 people reloads the overview once a second: the office on a busy morning. */
const RATE = SESSIONS;
const PASSWORD = 'a bench password of some length';

/**
 * The console's overview page (session lookup, two calls to the services as the person, the page rendered)
 * under 20 staff sessions, beside fastify serving a fixed page of the same size, both paced at the same rate
 * by the same load generator. Registration and deal-tracking run as deployed, with their demo data.
 */
export async function consoleOverviewScenario(): Promise<BenchRow> {
  const database = await createTestDatabase('cd_bench_console');
  const ns = uniqueName('bcons');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const signing = privateKey.export({ type: 'pkcs8', format: 'der' }).toString('base64');
  const verifying = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const dir = mkdtempSync(join(tmpdir(), 'bench-console-'));
  const started: RunningService[] = [];
  let bare: Spawned | undefined;
  try {
    const common = { DATABASE_URL: database.url, EVENT_NAMESPACE: ns, STAFF_TOKEN_PUBLIC_KEY: verifying };
    const registration = await startService('registration', { ...common, SEED_DEMO_DATA: 'true' });
    started.push(registration);
    const deals = await startService('deal-tracking', { ...common, SEED_DEMO_DATA: 'true' });
    started.push(deals);
    const consoleEnv = {
      DATABASE_URL: database.url,
      EVENT_NAMESPACE: ns,
      CONSOLE_SIGNING_KEY: signing,
      REGISTRATION_URL: registration.base,
      DEAL_TRACKING_URL: deals.base,
      NOTIFICATION_URL: 'http://127.0.0.1:9',
      LOGIN_RATE_PER_MINUTE: '1000',
      // Plain http on the loopback: the session cookie is then `cd_session`, not a Secure `__Host-` one.
      PUBLIC_BASE_URL: 'http://127.0.0.1',
    };
    // The first account, as `npm run console:create-admin` makes it.
    const admin = await spawnTs(
      `${repoRoot}services/console/src/accounts/create-admin.cli.ts`,
      ['--email', 'bench@programmabureau.example.nl', '--name', 'Bench Beheerder'],
      { ...consoleEnv, CONSOLE_ADMIN_PASSWORD: PASSWORD },
      (out) => out.includes('"created"'),
    );
    await admin.stop();
    const office = await startService('console', consoleEnv);
    started.push(office);
    const sessions = await Promise.all(Array.from({ length: SESSIONS }, () => logIn(office.base)));
    const page = await fetch(`${office.base}/`, { headers: { cookie: sessions[0]! } });
    const html = await page.text();
    if (page.status !== 200 || !html.includes('<svg')) throw new Error(`overview: ${page.status}`);
    const file = join(dir, 'overview.html');
    writeFileSync(file, html);

    const measure = async (url: string, label: string, headersList: Record<string, string>[]) => {
      const load = await runLoad({
        url,
        meetingIds: [],
        connections: SESSIONS,
        durationSeconds: Math.min(DURATION_SECONDS, 10),
        overallRate: RATE,
        paced: true,
        get: { path: '/', headers: {}, headersList },
        label,
      });
      assertClean(label, load);
      return load;
    };
    const system = await measure(
      office.base,
      'console-overview',
      sessions.map((cookie) => ({ cookie })),
    );
    const port = await freePort();
    bare = await spawnTs(
      `${repoRoot}packages/bench/src/processes/bare-page-server.ts`,
      [file, String(port)],
      {},
      (out) => out.includes('ready'),
    );
    const raw = await measure(`http://127.0.0.1:${port}`, 'bare-page', [{}]);
    const size = `${Math.round(Buffer.byteLength(html) / 102.4) / 10} KB`;
    return {
      scenario: `console overview page p95, ${SESSIONS} staff sessions`,
      system: {
        label: `GET / as ${SESSIONS} logged-in sessions in turn, ${system.requests} requests paced at ${RATE}/s`,
        value: system.p95!,
        unit: 'ms p95',
        p50: system.p50,
        p95: system.p95,
        p99: system.p99,
      },
      raw: {
        label: `fastify serving the same ${size} page from memory, same load`,
        value: raw.p95!,
        unit: 'ms p95',
        p50: raw.p50,
        p95: raw.p95,
        p99: raw.p99,
      },
      ratio: round(raw.p95! / Math.max(system.p95!, 1), 3),
      goal: 'console p95 ≤ 250 ms',
      note: 'ratio = bare p95 / console p95; the page makes two calls to the services whatever the number of meetings or deals',
    };
  } finally {
    await bare?.stop();
    for (const service of started.reverse()) await stopService(service, 'console overview');
    await removeNamespace(ns).catch(() => {});
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A login as a browser does it: the form's CSRF token and cookie, then the session cookie. */
async function logIn(base: string): Promise<string> {
  const form = await fetch(`${base}/login`);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  const loginCookie = form.headers
    .getSetCookie()
    .find((c) => c.startsWith('cd_login_csrf='))
    ?.split(';')[0];
  if (!csrf || !loginCookie) throw new Error('login form without its CSRF token');
  const answer = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: loginCookie },
    body: new URLSearchParams({ email: 'bench@programmabureau.example.nl', password: PASSWORD, _csrf: csrf }),
  });
  const session = answer.headers
    .getSetCookie()
    .find((c) => c.startsWith('cd_session='))
    ?.split(';')[0];
  if (answer.status !== 303 || !session) throw new Error(`login: ${answer.status}`);
  return session;
}
