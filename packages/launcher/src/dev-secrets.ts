import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';

// nats-server parses an environment value as config: only letters and digits, and a leading letter, or
// `5e3...` would read as a number and the server refuses to start. URLs need no escaping either.
const password = () => `p${randomBytes(18).toString('hex')}`;

const secretsSchema = z.object({
  postgresSuperuser: z.string().min(1),
  database: z.object({
    registration: z.string().min(1),
    deal_tracking: z.string().min(1),
    notification: z.string().min(1),
  }),
  nats: z.object({
    registration: z.string().min(1),
    deal_tracking: z.string().min(1),
    notification: z.string().min(1),
    admin: z.string().min(1),
  }),
  /** Seals webhook signing secrets at rest (AES-256-GCM); added later, so older data folders lack it. */
  webhookSecretKey: z.string().min(1).optional(),
  /** Shared by registration and deal-tracking for erasures; added later too. */
  personDigestKey: z.string().min(1).optional(),
  /** The pepper of the API keys' keyed hash (API_KEY_PEPPER); added later too. */
  apiKeyPepper: z.string().min(32).optional(),
});

export type DevSecrets = Readonly<z.output<typeof secretsSchema>>;

function generate(): DevSecrets {
  return {
    postgresSuperuser: password(),
    database: { registration: password(), deal_tracking: password(), notification: password() },
    nats: {
      registration: password(),
      deal_tracking: password(),
      notification: password(),
      admin: password(),
    },
    webhookSecretKey: randomBytes(32).toString('base64'),
    personDigestKey: randomBytes(32).toString('base64'),
    apiKeyPepper: randomBytes(32).toString('base64url'),
  };
}

/**
 * Passwords of the local stack, made once per data folder. They must outlive a run: the superuser
 * password is fixed at initdb, and stable role passwords let a person keep a psql session string.
 */
export async function loadOrCreateDevSecrets(dataDir: string): Promise<DevSecrets> {
  const file = join(dataDir, 'dev-secrets.json');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    const parsed = secretsSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${file} is damaged; remove the data folder ${dataDir} to start afresh`);
    if (parsed.data.webhookSecretKey && parsed.data.personDigestKey && parsed.data.apiKeyPepper) {
      return Object.freeze(parsed.data);
    }
    const completed = {
      ...parsed.data,
      webhookSecretKey: parsed.data.webhookSecretKey ?? randomBytes(32).toString('base64'),
      personDigestKey: parsed.data.personDigestKey ?? randomBytes(32).toString('base64'),
      apiKeyPepper: parsed.data.apiKeyPepper ?? randomBytes(32).toString('base64url'),
    };
    await writeFile(file, `${JSON.stringify(completed, null, 2)}\n`, { mode: 0o600 });
    return Object.freeze(completed);
  }
  const secrets = generate();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return Object.freeze(secrets);
}
