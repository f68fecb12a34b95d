// `npm start` heals: a service, nats-server or Postgres killed with -9 is started again on its port while
// the rest keeps running, and what was accepted meanwhile is still delivered, once.

import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { descendants, isAlive, type Run, startLauncher, stopWithCtrlC } from './launcher-run.ts';

t.test('npm start restarts what dies and keeps the rest running', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'citydeals-heal-'));
  await chmod(dataDir, 0o755);
  let run: Run | undefined;
  t.teardown(async () => {
    if (run?.child.exitCode === null) run.child.kill('SIGKILL');
    await rm(dataDir, { recursive: true, force: true });
  });
  run = await startLauncher(t, dataDir);
  const registration = run.urls.Registration!;
  const mailDir = join(dataDir, 'mail');
  const { items } = (await (await fetch(`${registration}/meetings`)).json()) as { items: { id: string }[] };
  const meetingId = items[0]!.id;

  let serial = 0;
  /** Registers a new address and waits until exactly one confirmation mail to it is in the mail folder. */
  const registerAndCountMails = async (label: string) => {
    const email = `heal-${++serial}@example.org`;
    const answer = await eventually(async () => {
      const response = await fetch(`${registration}/meetings/${meetingId}/registrations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `Heal ${serial}`,
          email,
          organisation: 'Gemeente Zwolle',
          role: 'dealmaker',
        }),
      }).catch(() => undefined);
      return response?.status === 201 ? response : undefined;
    }, 30_000);
    t.equal(answer?.status, 201, `${label}: a registration is accepted`);
    const mails = await eventually(async () => {
      const found = await confirmationsTo(mailDir, email);
      return found.length > 0 ? found : undefined;
    }, 30_000);
    // A little longer: a second copy would come from a redelivery right after the first.
    await new Promise((r) => setTimeout(r, 1_000));
    t.equal((await confirmationsTo(mailDir, email)).length, 1, `${label}: its confirmation arrives once`, {
      mails,
    });
  };

  const pidOf = (pattern: RegExp): number => {
    const pid = run!.pids.find((p) => {
      try {
        return pattern.test(readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' '));
      } catch {
        return false;
      }
    });
    if (pid === undefined) throw new Error(`no process matches ${pattern}`);
    return pid;
  };
  const servicePid = (dir: string) => pidOf(new RegExp(`services/${dir}/src/server\\.ts`));
  const others = (except: string) =>
    ['registration', 'deal-tracking', 'notification'].filter((d) => d !== except).map(servicePid);

  for (const dir of ['notification', 'registration', 'deal-tracking']) {
    const victim = servicePid(dir);
    const untouched = others(dir);
    const offset = run.output().length;
    process.kill(victim, 'SIGKILL');
    if (dir === 'notification') await registerAndCountMails('while notification is down');
    const again = await eventually(() => {
      const text = run!.output().slice(offset);
      return /ready again on/.test(text) ? text : undefined;
    }, 45_000);
    t.match(
      again,
      new RegExp(`! ${dir} stopped unexpectedly \\(killed by SIGKILL\\); restarting it in`),
      `${dir}: the kill is reported`,
    );
    t.match(
      again,
      new RegExp(`✓ ${dir} ready again on http://127\\.0\\.0\\.1:\\d+`),
      `${dir}: back on its port`,
    );
    t.same(
      untouched.filter((pid) => !isAlive(pid)),
      [],
      `${dir}: the other services never stopped`,
    );
    run.pids = descendants(run.child.pid!);
    for (const [title, url] of Object.entries(run.urls)) {
      t.equal((await fetch(`${url}/health/ready`)).status, 200, `${dir} killed: ${title} ready`);
    }
    await registerAndCountMails(`after ${dir} came back`);
  }

  for (const [name, pattern] of [
    ['nats-server', /nats-server/],
    ['Postgres', /\/postgres -D /],
  ] as const) {
    const services = ['registration', 'deal-tracking', 'notification'].map(servicePid);
    const offset = run.output().length;
    process.kill(pidOf(pattern), 'SIGKILL');
    const again = await eventually(() => {
      const text = run!.output().slice(offset);
      return text.includes(`✓ ${name} running again`) ? text : undefined;
    }, 45_000);
    t.ok(again, `${name} is started again`, { output: run.output().slice(offset) });
    t.same(
      services.filter((pid) => !isAlive(pid)),
      [],
      `${name} killed: the services kept running`,
    );
    run.pids = descendants(run.child.pid!);
    await registerAndCountMails(`after ${name} came back`);
  }

  await stopWithCtrlC(t, run);
  t.match(run.output(), /✓ stopped cleanly/);
});

async function confirmationsTo(mailDir: string, email: string): Promise<string[]> {
  const names = (await readdir(mailDir).catch(() => [])).filter((n) => n.includes('registration_confirmed'));
  const matching: string[] = [];
  for (const name of names) {
    const mail = await readFile(join(mailDir, name), 'utf8');
    if (mail.split(/\r?\n/).some((line) => line.startsWith('To:') && line.includes(email)))
      matching.push(name);
  }
  return matching;
}
