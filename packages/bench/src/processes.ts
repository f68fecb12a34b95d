import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withAdmin } from '@citydeals/testkit';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Peak resident set size so far, from the kernel's high-water mark. */
  peakRssMb: () => number;
  /** CPU time (user + system) the process has used so far, in seconds; a difference of two readings is
   * what a stretch of work cost it, and is far less sensitive to the machine's load than wall-clock time. */
  cpuSeconds: () => number;
  stop: () => Promise<void>;
}

/** Every process the benchmark started and has not stopped: killed when the benchmark exits, however. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/**
 * Starts an entry point in its own Node process — TypeScript through tsx, or a built `.mjs` bundle as
 * deployed — and waits until `ready(output)` holds.
 */
export async function spawnTs(
  entry: string,
  args: string[],
  env: Record<string, string>,
  ready: (output: string) => boolean,
  timeoutMs = 60_000,
  nodeFlags: readonly string[] = [],
): Promise<Spawned> {
  // BENCH_CPU_PROF=<dir> writes a V8 CPU profile of every spawned process there on exit (services exit
  // cleanly on SIGTERM), for finding what limits a row: open it in Chrome DevTools or speedscope.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  // BENCH_MEMORY_SAMPLES=<dir> preloads diagnostics/memory-sampler.mjs: on exit each process writes the
  // process.memoryUsage() sample (heapUsed, heapTotal, external, rss, V8 spaces) taken at its highest RSS
  // there, which tells live heap from heap slack from memory outside the V8 heap.
  const memory = process.env.BENCH_MEMORY_SAMPLES
    ? ['--import', fileURLToPath(new URL('./diagnostics/memory-sampler.mjs', import.meta.url))]
    : [];
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...prof, ...memory, ...nodeFlags, ...loader, entry, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let output = '';
  child.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  const deadline = Date.now() + timeoutMs;
  while (!ready(output)) {
    if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${output.slice(-2000)}`);
    if (Date.now() > deadline)
      throw new Error(`${entry} not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    output: () => output,
    peakRssMb: () => {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
        return Math.round(kb / 1024);
      } catch {
        return 0;
      }
    },
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ), 100 on every Linux this runs on. */
const USER_HZ = 100;

function processCpuSeconds(pid: number | undefined): number {
  try {
    // Fields after the command name, which may itself contain spaces and parentheses: utime is the 14th
    // field of the line, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/**
 * CPU time (seconds) every process of the machine has used since boot: the `cpu` line of /proc/stat, user,
 * nice, system, irq and softirq (not idle, iowait or time stolen by the hypervisor). What a scenario costs the
 * whole machine, the receiver, NATS and the load generator included, where the other readings count one
 * process or one database.
 */
export function machineCpuSeconds(): number {
  const fields = readFileSync('/proc/stat', 'utf8')
    .split('\n', 1)[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const [user, nice, system, , , irq, softirq] = fields;
  return (user! + nice! + system! + irq! + softirq!) / USER_HZ;
}

/**
 * CPU time (seconds) used so far by each Postgres backend now connected to `database`, by pid. Backends are
 * the server processes of the machine's shared Postgres, so their /proc entries are readable here; a
 * backend that disconnects between two readings drops out of the difference (the services keep theirs).
 */
export async function databaseCpuSeconds(database: string): Promise<Map<number, number>> {
  const { rows } = await withAdmin((c) =>
    c.query<{ pid: number }>('select pid from pg_stat_activity where datname = $1', [database]),
  );
  return new Map(rows.map((r) => [r.pid, processCpuSeconds(r.pid)]));
}

/** What the backends of a later `databaseCpuSeconds` reading spent since an earlier one. */
export function databaseCpuSpent(before: Map<number, number>, after: Map<number, number>): number {
  let spent = 0;
  // A backend that ended before a reading has no figure in it (NaN): what it spent is lost either way.
  for (const [pid, seconds] of after) {
    const start = before.get(pid) ?? 0;
    if (Number.isFinite(seconds) && Number.isFinite(start)) spent += seconds - start;
  }
  return spent;
}

export async function waitForHttp(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  /** Paced runs only (autocannon has no p95). */
  p95?: number;
  p97_5: number;
  p99: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** With recordStarts: Date.now() at which each request (by email address) was built. */
  starts?: Record<string, number>;
  /** Paced with recordStarts: Date.now() at which each request's response had been read. */
  answers?: Record<string, number>;
}

/** Runs the load generator in its own process and returns autocannon's figures. */
export async function runLoad(options: {
  url: string;
  meetingIds: string[];
  connections: number;
  durationSeconds: number;
  overallRate?: number;
  /** Evenly spaced open-loop requests at overallRate (see processes/load.ts) instead of autocannon's. */
  paced?: boolean;
  /** Paced: each second's requests all due at its start, each on its own connection (processes/load.ts). */
  burst?: boolean;
  recordStarts?: boolean;
  get?: { path: string; headers: Record<string, string>; headersList?: Record<string, string>[] };
  label: string;
}): Promise<LoadResult> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./processes/load.ts', import.meta.url)),
      JSON.stringify(options),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  // 'close', not 'exit': the process can exit before its last output has been read from the pipe.
  const [code] = await once(child, 'close');
  if (code !== 0) throw new Error(`load generator exited with ${code}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult;
}
