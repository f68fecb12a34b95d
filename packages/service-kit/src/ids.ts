import { randomFillSync } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

/**
 * Bytes from the system CSPRNG, drawn 4 KiB at a time: a `randomFillSync` costs about the same whatever its
 * size up to a few KiB, and a registration needs three small draws (two ids and a token).
 * Each byte is handed out once.
 */
const pool = Buffer.alloc(4096);
let taken = pool.length;

export function randomBytesFromPool(size: number): Buffer {
  if (size > pool.length) return randomFillSync(Buffer.alloc(size));
  if (taken + size > pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const bytes = Buffer.from(pool.subarray(taken, taken + size));
  taken += size;
  return bytes;
}

const v7State = { msecs: Number.NEGATIVE_INFINITY, seq: 0 };

/**
 * A UUIDv7 with random bits from the pool, ordered like the uuid package's own v7: within a millisecond a
 * 31-bit counter that starts at a random value and counts up, so ids sort in the order they were made.
 */
export function newEventId(): string {
  const random = randomBytesFromPool(16);
  const now = Date.now();
  if (now > v7State.msecs) {
    v7State.msecs = now;
    v7State.seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
  } else {
    v7State.seq = (v7State.seq + 1) | 0;
    // The counter ran out within one millisecond: borrow the next one, as uuid does.
    if (v7State.seq === 0) v7State.msecs += 1;
  }
  return uuidv7({ random, msecs: v7State.msecs, seq: v7State.seq });
}
