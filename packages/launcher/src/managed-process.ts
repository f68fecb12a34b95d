import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  error?: Error;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Resolves (never rejects) when the process has exited. */
  readonly exited: Promise<ExitStatus>;
  isRunning(): boolean;
  /** The last lines it wrote, for error messages. */
  recentOutput(): string[];
  /** The last `count` non-blank lines, indented, for an error message. */
  lastLines(count: number): string;
  /** Sends `signal`; after `timeoutMs` kills its whole process group. Resolves once it has exited. */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<ExitStatus>;
  /** SIGKILL to its process group, synchronously; for the last moments of the launcher. */
  killNow(): void;
}

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  uid?: number;
  gid?: number;
  /** Rewrites each output line before it is kept and shown (e.g. a JSON log line made readable). */
  formatLine?: (line: string) => string;
  /** Called with every output line (stdout and stderr); lines are kept for `recentOutput` regardless. */
  onLine?: (line: string) => void;
  keepLines?: number;
}

const live = new Set<ManagedProcess>();

/** Every child still running, so the launcher can make sure none outlives it. */
export function runningProcesses(): ManagedProcess[] {
  return [...live].filter((p) => p.isRunning());
}

export function describeExit(status: ExitStatus): string {
  if (status.error) return status.error.message;
  return status.signal ? `killed by ${status.signal}` : `exit code ${status.code}`;
}

export function startManagedProcess(options: ManagedProcessOptions): ManagedProcess {
  const keep = options.keepLines ?? 30;
  const lines: string[] = [];
  const child = spawn(options.command, options.args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    uid: options.uid,
    gid: options.gid,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: Ctrl-C in a terminal signals the whole foreground group, and a service or
    // nats-server hit directly would stop out of order (a service treats the launcher's SIGTERM that
    // follows as a second signal and exits at once). The launcher alone decides who stops when.
    detached: true,
  });
  let running = child.pid !== undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (error) => {
      running = false;
      resolve({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  const onLine = (raw: string) => {
    const line = options.formatLine ? options.formatLine(raw) : raw;
    lines.push(line);
    if (lines.length > keep) lines.shift();
    options.onLine?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', onLine);
  }

  const signalGroup = (signal: NodeJS.Signals) => {
    if (!running || child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };

  const handle: ManagedProcess = {
    name: options.name,
    pid: child.pid,
    exited,
    isRunning: () => running,
    recentOutput: () => [...lines],
    lastLines: (count) => {
      const shown = lines.filter((l) => l.trim() !== '');
      // A crash prints its error and then a stack: start at the error, which says what went wrong.
      const errorAt = shown.findLastIndex((l) => /\w*Error\b/.test(l) && !/^\s*at /.test(l));
      const from = errorAt >= 0 ? Math.min(errorAt, shown.length - 1) : Math.max(0, shown.length - count);
      return shown
        .slice(from, from + count)
        .map((l) => `    ${l}`)
        .join('\n');
    },
    async stop(signal, timeoutMs) {
      if (running) child.kill(signal);
      const timer = setTimeout(() => signalGroup('SIGKILL'), timeoutMs);
      const status = await exited;
      clearTimeout(timer);
      return status;
    },
    killNow: () => signalGroup('SIGKILL'),
  };
  live.add(handle);
  void exited.then(() => live.delete(handle));
  return handle;
}
