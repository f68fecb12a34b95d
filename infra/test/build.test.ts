/**
 * The deployment bundles (`npm run build`, what the Dockerfile runs) start and serve: a module the bundler
 * got wrong, or a file read at run time relative to a source file (the notification's mail templates), only
 * shows when the bundle runs.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  adminHeaders,
  createQuickTestDatabase,
  deleteNamespaceStreams,
  eventually,
  freePort,
  testServers,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import t from 'tap';
import { buildServices, serviceNodeFlags } from '../build/build-services.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const services = ['registration', 'deal-tracking', 'notification'] as const;

await buildServices([...services]);
const database = await createQuickTestDatabase('cd_build');
const namespace = uniqueName('build');
const mailDir = mkdtempSync(join(tmpdir(), 'build-mail-'));
t.teardown(async () => {
  await database.drop();
  rmSync(mailDir, { recursive: true, force: true });
  const nc = await connect({ servers: testServers.natsUrl });
  await deleteNamespaceStreams(await jetstreamManager(nc), namespace);
  await nc.close();
});

async function startBundle(
  service: string,
  port: number,
): Promise<{ child: ChildProcess; log: () => string }> {
  const child = spawn(
    process.execPath,
    [...serviceNodeFlags, join(repoRoot, 'services', service, 'dist/server.mjs')],
    {
      env: {
        ...process.env,
        ...testServiceEnv(database, namespace),
        PORT: String(port),
        HOST: '127.0.0.1',
        MAIL_DIR: mailDir,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let log = '';
  child.stdout?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  return { child, log: () => log };
}

const ports = Object.fromEntries(
  await Promise.all(services.map(async (s) => [s, await freePort()] as const)),
);
const running: { service: string; child: ChildProcess; log: () => string }[] = [];
t.teardown(async () => {
  for (const { child } of running.reverse()) {
    if (child.exitCode !== null) continue;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
  }
});

for (const service of services) {
  t.test(`${service}: the bundle starts, migrates and serves`, async (t) => {
    const bundle = join(repoRoot, 'services', service, 'dist/server.mjs');
    t.ok(existsSync(bundle), `${bundle} built`);
    const port = ports[service]!;
    const started = await startBundle(service, port);
    running.push({ service, ...started });
    const ready = await eventually(async () => {
      if (started.child.exitCode !== null) return 'exited';
      try {
        const res = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return res.status === 200 ? 'ready' : undefined;
      } catch {
        return undefined;
      }
    }, 60_000);
    t.equal(ready, 'ready', `ready (log: ${started.log().slice(-1500)})`);
    const openapi = await fetch(`http://127.0.0.1:${port}/openapi.json`);
    t.equal(openapi.status, 200, 'OpenAPI document served');
    t.ok(Object.keys(((await openapi.json()) as { paths: object }).paths).length > 3, 'with its routes');
  });
}

t.test(
  'the bundles together: a registration becomes a confirmation mail rendered from the shipped templates',
  async (t) => {
    const registration = `http://127.0.0.1:${ports.registration}`;
    const starts = new Date(Date.now() + 30 * 86_400_000);
    const meeting = await fetch(`${registration}/admin/meetings`, {
      method: 'POST',
      headers: { ...adminHeaders, 'content-type': 'application/json' },
      body: JSON.stringify({
        title: 'Bundle check',
        slug: `bundle-${namespace.slice(-8)}`,
        description: 'Checks the deployment bundles.',
        startsAt: starts.toISOString(),
        endsAt: new Date(starts.getTime() + 3 * 3600_000).toISOString(),
        timeZone: 'Europe/Amsterdam',
        venue: { name: 'Hangar', address: 'Binckhorstlaan 36, Den Haag' },
        capacity: 10,
        language: 'nl',
        status: 'published',
      }),
    });
    t.equal(meeting.status, 201, 'meeting created');
    const { id } = (await meeting.json()) as { id: string };
    const registered = await fetch(`${registration}/meetings/${id}/registrations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Sanne de Vries',
        email: 'sanne.devries@example.org',
        organisation: 'Gemeente Zwolle',
        role: 'projectleider',
        language: 'nl',
      }),
    });
    t.equal(registered.status, 201, 'registered');
    const mails = await eventually(() => {
      const files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
      return files.length > 0 ? files : undefined;
    }, 60_000);
    t.equal(mails?.length, 1, 'one confirmation mail written');
    const mail = readFileSync(join(mailDir, mails?.[0] ?? 'missing'), 'utf8');
    t.match(mail, /sanne\.devries@example\.org/, 'to the attendee');
    t.match(mail, /Bundle check/, 'about the meeting');
    t.match(mail, /text\/html/, 'with an HTML part from the templates');
  },
);
