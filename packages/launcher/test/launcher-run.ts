// Runs `npm start`'s entry point as a person would, on a temporary data folder, and reads what it prints.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from '@citydeals/testkit';
import type t from 'tap';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = join(REPO_ROOT, 'packages', 'launcher', 'src', 'main.ts');

export interface Run {
  child: ChildProcess;
  output: () => string;
  /** The launcher and every process below it, captured once everything is up. */
  pids: number[];
  urls: Record<string, string>;
  adminKey: string;
  /** The console's first beheerder as the summary prints it. */
  consoleLogin: { email: string; password: string };
  postgresPort: number;
  startupMs: number;
}

export type TestContext = Parameters<Parameters<typeof t.test>[0]>[0];

export async function startLauncher(t: TestContext, dataDir: string): Promise<Run> {
  // tap's own variables would make nested node processes behave like tap children.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TAP|_TAPJS|NODE_OPTIONS)/.test(k)),
  );
  const began = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...env,
      CITYDEALS_DATA_DIR: dataDir,
      // Any free port: other runs on this machine may hold 3001-3003.
      REGISTRATION_PORT: '0',
      DEAL_TRACKING_PORT: '0',
      NOTIFICATION_PORT: '0',
      CONSOLE_PORT: '0',
      CITYDEALS_READY_TIMEOUT_MS: '45000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk) => {
    output += chunk;
  });
  const summaryDone = /curl -H "Authorization: Bearer (cdk_[A-Za-z0-9_-]+)" \S+\n/;
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  // Stops polling as soon as the launcher gives up, so a failed start does not hold the test for the timeout.
  await eventually(() => summaryDone.test(output) || exited, 50_000, 100);
  if (!summaryDone.test(output)) {
    child.kill('SIGKILL');
    t.fail('the launcher printed its summary', { output });
    throw new Error('the launcher did not start; its output is in the failure above');
  }
  const startupMs = performance.now() - began;
  const urls: Record<string, string> = {};
  for (const title of ['Registration', 'Deal tracking', 'Notification', 'Console']) {
    const match = new RegExp(`^  ${title}\\s+(http://127\\.0\\.0\\.1:\\d+)\\s+docs: \\1/docs$`, 'm').exec(
      output,
    );
    t.ok(match, `summary shows the ${title} URL and its docs page`);
    urls[title] = match?.[1] ?? '';
  }
  t.match(output, /Mail folder\s+\S*mail/, 'summary shows the mail folder');
  t.match(output, /openapi\.json/, 'summary names the OpenAPI document');
  const adminKey = summaryDone.exec(output)?.[1] ?? '';
  t.match(output, new RegExp(`Admin key\\s+${adminKey}`), 'summary shows the admin key');
  const consoleLogin = /Console login\s+(\S+@\S+) \/ (\S+)/.exec(output);
  t.ok(consoleLogin, 'summary shows the console’s first login');
  const postgresPort = Number(/✓ Postgres \(embedded[^)]*\) on 127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
  return {
    child,
    output: () => output,
    consoleLogin: { email: consoleLogin?.[1] ?? '', password: consoleLogin?.[2] ?? '' },
    pids: descendants(child.pid!),
    urls,
    adminKey,
    postgresPort,
    startupMs,
  };
}

export async function stopWithCtrlC(t: TestContext, run: Run): Promise<number> {
  t.ok(run.pids.length >= 6, `the launcher runs its children (${run.pids.length} processes)`);
  const began = performance.now();
  const exited = once(run.child, 'exit') as Promise<[number | null, string | null]>;
  run.child.kill('SIGINT');
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
  const result = await Promise.race([exited, timeout]);
  t.not(result, 'timeout', 'the launcher exits within 30 s of SIGINT');
  t.same(result, [0, null], 'with exit code 0', { output: run.output().slice(-2000) });
  const left = await eventually(() => {
    const alive = run.pids.filter(isAlive);
    return alive.length === 0 ? [] : undefined;
  }, 5_000);
  t.same(left ?? run.pids.filter(isAlive), [], 'no process of the run is left');
  return performance.now() - began;
}

/** The process and all below it, from /proc (Linux): services, nats-server, Postgres and its backends. */
export function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name may hold spaces and parentheses; the fields after its last ')' are fixed.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const all: number[] = [];
  const walk = (pid: number) => {
    all.push(pid);
    for (const child of children.get(pid) ?? []) walk(child);
  };
  walk(root);
  return all;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers signal 0 until reaped; it runs nothing any more.
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}
