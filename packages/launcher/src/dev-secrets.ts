import { generateKeyPairSync, randomBytes } from 'node:crypto';
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
    /** The console came later: older data folders lack it, and get it on their next start. */
    console: z.string().min(1).optional(),
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
  /** Ed25519 pair: the console signs staff tokens, the services verify them (docs/console.md). */
  staffTokenKeys: z.object({ privatePem: z.string().min(1), publicPem: z.string().min(1) }).optional(),
});

/** What older data folders lack, filled in. */
export type CompleteDevSecrets = DevSecrets & {
  database: DevSecrets['database'] & { console: string };
  webhookSecretKey: string;
  personDigestKey: string;
  apiKeyPepper: string;
  staffTokenKeys: { privatePem: string; publicPem: string };
};

function staffTokenKeys() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function complete(secrets: DevSecrets): CompleteDevSecrets {
  return {
    ...secrets,
    database: { ...secrets.database, console: secrets.database.console ?? password() },
    webhookSecretKey: secrets.webhookSecretKey ?? randomBytes(32).toString('base64'),
    personDigestKey: secrets.personDigestKey ?? randomBytes(32).toString('base64'),
    apiKeyPepper: secrets.apiKeyPepper ?? randomBytes(32).toString('base64url'),
    staffTokenKeys: secrets.staffTokenKeys ?? staffTokenKeys(),
  };
}

export type DevSecrets = Readonly<z.output<typeof secretsSchema>>;

function generate(): DevSecrets {
  return {
    postgresSuperuser: password(),
    database: {
      registration: password(),
      deal_tracking: password(),
      notification: password(),
      console: password(),
    },
    nats: {
      registration: password(),
      deal_tracking: password(),
      notification: password(),
      admin: password(),
    },
    webhookSecretKey: randomBytes(32).toString('base64'),
    personDigestKey: randomBytes(32).toString('base64'),
    apiKeyPepper: randomBytes(32).toString('base64url'),
    staffTokenKeys: staffTokenKeys(),
  };
}

/**
 * Passwords of the local stack, made once per data folder. They must outlive a run: the superuser
 * password is fixed at initdb, and stable role passwords let a person keep a psql session string.
 */
export async function loadOrCreateDevSecrets(dataDir: string): Promise<CompleteDevSecrets> {
  const file = join(dataDir, 'dev-secrets.json');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (text !== undefined) {
    const parsed = secretsSchema.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(`${file} is damaged; remove the data folder ${dataDir} to start afresh`);
    const completed = complete(parsed.data);
    if (JSON.stringify(completed) === JSON.stringify(parsed.data)) return Object.freeze(completed);
    await writeFile(file, `${JSON.stringify(completed, null, 2)}\n`, { mode: 0o600 });
    return Object.freeze(completed);
  }
  const secrets = complete(generate());
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return Object.freeze(secrets);
}
