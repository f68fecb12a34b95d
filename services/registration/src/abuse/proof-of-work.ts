import { CappedMap, createChallenge, randomInt } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { verify } from 'altcha-lib/frameworks/shared';

/** Long enough to fill in the form after the work is done; a used solution is refused until it expires. */
const CHALLENGE_LIFETIME_MS = 20 * 60 * 1000;
/** Solutions seen, so one cannot be sent twice; beyond this many the oldest are forgotten. */
const SPENT_KEPT = 50_000;

export interface ProofOfWorkOptions {
  secret: string;
  cost: number;
  maxCounter: number;
}

/**
 * Self-hosted proof of work for the public form (ALTCHA): the browser derives PBKDF2 keys until it finds
 * the one the signed challenge asks for, about `maxCounter × 3/4 × cost` iterations on average; the server
 * checks one derivation. PBKDF2 because browsers compute it natively, so a bot has little edge over a
 * person's browser. Challenges are stateless (HMAC-signed, with an expiry); spent solutions are remembered
 * per process, so behind several replicas a solution could be used once per replica within its lifetime.
 */
export class ProofOfWork {
  readonly #options: ProofOfWorkOptions;
  readonly #spent = new CappedMap<string, boolean>({ maxSize: SPENT_KEPT });

  constructor(options: ProofOfWorkOptions) {
    this.#options = options;
  }

  /** Expiry is checked by the library against the real time, so it is set from the real time too. */
  challenge() {
    const { secret, cost, maxCounter } = this.#options;
    return createChallenge({
      algorithm: 'PBKDF2/SHA-256',
      cost,
      counter: randomInt(Math.floor(maxCounter / 2), maxCounter),
      deriveKey,
      hmacSignatureSecret: secret,
      hmacKeySignatureSecret: `${secret}:key`,
      expiresAt: new Date(Date.now() + CHALLENGE_LIFETIME_MS),
    });
  }

  /** True for a solution of a challenge of ours, not expired and not used before. */
  async verify(payload: unknown): Promise<boolean> {
    if (typeof payload !== 'string' || payload.length === 0 || payload.length > 4096) return false;
    const { secret } = this.#options;
    const result = await verify(payload, deriveKey, secret, `${secret}:key`, this.#spent);
    return result.error === null;
  }
}
