import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Signing secrets must be readable to sign with, so they cannot be hashed. With WEBHOOK_SECRET_KEY set they
 * are sealed with AES-256-GCM, bound to their endpoint id (so a sealed secret copied to another row does not
 * open); without it they are stored as they are, marked `plain:`, and the service logs a warning at start.
 */
export interface SecretCipher {
  readonly encrypts: boolean;
  seal(secret: string, endpointId: string): string;
  open(stored: string, endpointId: string): string;
}

const SEALED = 'aes256gcm:';
const PLAIN = 'plain:';

export function createSecretCipher(keyBase64: string | undefined): SecretCipher {
  const key = keyBase64 ? Buffer.from(keyBase64, 'base64') : undefined;
  if (key && key.length !== 32) throw new Error('WEBHOOK_SECRET_KEY must be 32 bytes, base64-encoded');
  return {
    encrypts: key !== undefined,
    seal(secret, endpointId) {
      if (!key) return `${PLAIN}${secret}`;
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(endpointId));
      const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
      return `${SEALED}${[iv, cipher.getAuthTag(), sealed].map((b) => b.toString('base64')).join('.')}`;
    },
    open(stored, endpointId) {
      if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
      if (!stored.startsWith(SEALED)) throw new Error('unknown stored secret format');
      if (!key) throw new Error('the secret is encrypted but WEBHOOK_SECRET_KEY is not set');
      const [iv, tag, sealed] = stored
        .slice(SEALED.length)
        .split('.')
        .map((part) => Buffer.from(part, 'base64'));
      const decipher = createDecipheriv('aes-256-gcm', key, iv!);
      decipher.setAAD(Buffer.from(endpointId));
      decipher.setAuthTag(tag!);
      return Buffer.concat([decipher.update(sealed!), decipher.final()]).toString('utf8');
    },
  };
}
