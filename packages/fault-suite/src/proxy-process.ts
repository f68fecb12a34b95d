import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startTcpProxy } from '@citydeals/testkit';

/**
 * The testkit's TCP proxy in a process of its own, driven over stdin, so the services' connections through it
 * die with that process. With the proxy inside the test process, that process kept spinning after its
 * teardown (services killed, proxies closed) in most runs of the blackhole scenario; the cause was not found.
 */
export class ProxyProcess {
  readonly #lines: AsyncIterator<string>;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    lines: AsyncIterator<string>,
  ) {
    this.#lines = lines;
  }

  static async start(target: { host: string; port: number }): Promise<ProxyProcess> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(import.meta.url), target.host, String(target.port)],
      { cwd: fileURLToPath(new URL('../../../', import.meta.url)), stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const first = await lines.next();
    const port = Number(first.value);
    if (first.done || !port) throw new Error(`proxy process did not start: ${first.value}`);
    return new ProxyProcess(child, port, lines);
  }

  /** Stops moving bytes both ways while keeping every connection open. */
  blackhole(): Promise<void> {
    return this.#command('blackhole');
  }

  heal(): Promise<void> {
    return this.#command('heal');
  }

  /** Cuts every connection with a TCP reset. */
  resetAll(): Promise<void> {
    return this.#command('reset');
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = once(this.child, 'exit');
    this.child.kill('SIGKILL');
    await exited;
  }

  async #command(command: string): Promise<void> {
    this.child.stdin!.write(`${command}\n`);
    const answer = await this.#lines.next();
    if (answer.value !== `ok ${command}`) throw new Error(`proxy ${command}: ${answer.value}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [host, port] = process.argv.slice(2);
  const proxy = await startTcpProxy({ host: host!, port: Number(port) });
  process.stdout.write(`${proxy.port}\n`);
  const actions: Record<string, () => void> = {
    blackhole: () => proxy.blackhole(),
    heal: () => proxy.heal(),
    reset: () => proxy.resetAll(),
  };
  for await (const line of createInterface({ input: process.stdin })) {
    const action = actions[line.trim()];
    if (!action) {
      process.stdout.write(`unknown ${line}\n`);
      continue;
    }
    action();
    process.stdout.write(`ok ${line.trim()}\n`);
  }
  // The test is gone (stdin closed): so is the network it simulated.
  process.exit(0);
}
