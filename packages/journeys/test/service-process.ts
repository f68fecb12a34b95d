import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from '@citydeals/testkit';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** A service as its own process, started from its source as `npm start` does; ready once it says so. */
export async function startProcess(dir: string, env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', `services/${dir}/src/server.ts`], {
    cwd: repoRoot,
    env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (c: Buffer) => {
    output = (output + c.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const ready = await eventually(async () => {
    if (child.exitCode !== null) return true;
    return (await fetch(`${url}/health/ready`).catch(() => null))?.status === 200;
  }, 60_000);
  if (!ready || child.exitCode !== null) throw new Error(`${dir} did not start: ${output}`);
  return {
    url,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
