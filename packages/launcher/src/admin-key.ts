import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface AdminKey {
  key: string;
  /** `env`: ADMIN_API_KEY; `created`: new this run; `reused`: from an earlier run's file. */
  source: 'env' | 'created' | 'reused';
  file?: string;
}

export function newDevelopmentKey(): string {
  return `cdk_${randomBytes(32).toString('base64url')}`;
}

/**
 * ADMIN_API_KEY when set; otherwise the development key kept in the data folder, created on first use, so
 * a restart (and any script holding the key) keeps working.
 */
export async function resolveAdminKey(dataDir: string, fromEnv: string | undefined): Promise<AdminKey> {
  if (fromEnv) return { key: fromEnv, source: 'env' };
  const file = join(dataDir, 'admin-key');
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return '';
      throw err;
    },
  );
  if (existing) return { key: existing, source: 'reused', file };
  const key = newDevelopmentKey();
  await mkdir(dirname(file), { recursive: true });
  // 0600: whoever reads it can administer the local services.
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { key, source: 'created', file };
}
