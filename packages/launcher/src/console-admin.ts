import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { z } from 'zod';
import { REPO_ROOT } from './config.ts';

export const CONSOLE_ADMIN_EMAIL = 'beheerder@citydeals.example.org';

export interface ConsoleAdmin {
  email: string;
  /** Known when this data folder made the account; absent when someone else did. */
  password?: string;
  source: 'created' | 'reused';
  file: string;
}

const outcome = z.union([
  z.object({ created: z.literal(true), email: z.string(), password: z.string() }),
  z.object({ created: z.literal(false) }),
]);
const kept = z.object({ email: z.string(), password: z.string() });

/**
 * The console's first beheerder, made once by the console's own create-admin command (the launcher does not
 * import service code) and kept in the data folder like the admin key, so the summary can show it each time.
 */
export async function ensureConsoleAdmin(
  dataDir: string,
  consoleEnv: NodeJS.ProcessEnv,
): Promise<ConsoleAdmin> {
  const file = join(dataDir, 'console-admin.json');
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--import',
      import.meta.resolve('tsx'),
      join('services', 'console', 'src', 'accounts', 'create-admin.cli.ts'),
      '--email',
      CONSOLE_ADMIN_EMAIL,
      '--name',
      'Beheerder',
    ],
    { cwd: REPO_ROOT, env: consoleEnv, timeout: 60_000 },
  );
  const result = outcome.parse(JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}'));
  if (result.created) {
    // 0600: whoever reads it can log in to the local console as beheerder.
    await writeFile(
      file,
      `${JSON.stringify({ email: result.email, password: result.password }, null, 2)}\n`,
      {
        mode: 0o600,
      },
    );
    return { email: result.email, password: result.password, source: 'created', file };
  }
  const saved = await readFile(file, 'utf8').then(
    (text) => kept.safeParse(JSON.parse(text)).data,
    () => undefined,
  );
  return saved
    ? { ...saved, source: 'reused', file }
    : { email: CONSOLE_ADMIN_EMAIL, source: 'reused', file };
}
