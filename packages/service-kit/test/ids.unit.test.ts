import t from 'tap';
import { validate, version } from 'uuid';
import { newEventId, randomBytesFromPool } from '../src/ids.ts';

t.test('event ids are UUIDv7, unique, and sort in the order they were made', async (t) => {
  const ids = Array.from({ length: 5_000 }, () => newEventId());
  t.ok(
    ids.every((id) => validate(id) && version(id) === 7),
    'every id is a valid UUIDv7',
  );
  t.equal(new Set(ids).size, ids.length, 'no id twice');
  // Thousands of ids share a millisecond here: only the counter keeps them in order.
  t.same([...ids].sort(), ids, 'sorted as made');
  const ms = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);
  t.ok(Math.abs(ms(ids.at(-1)!) - Date.now()) < 5_000, 'their time is now');
});

t.test('pooled random bytes: each byte handed out once, across refills', async (t) => {
  const draws = Array.from({ length: 600 }, (_, i) => randomBytesFromPool(i % 2 === 0 ? 16 : 24));
  t.same(
    draws.map((d) => d.length),
    draws.map((_, i) => (i % 2 === 0 ? 16 : 24)),
  );
  // 600 draws take 12 000 bytes: the 4 KiB pool was refilled twice. Equal draws would mean reused bytes.
  t.equal(new Set(draws.map((d) => d.toString('hex'))).size, draws.length, 'no two draws alike');
  const first = draws[0]!;
  const copy = Buffer.from(first);
  randomBytesFromPool(4096);
  t.same(first, copy, 'a draw is a copy: refilling the pool does not change it');
  t.equal(randomBytesFromPool(10_000).length, 10_000, 'a draw larger than the pool');
  const bits = draws
    .flatMap((d) => [...d])
    .reduce((n, byte) => n + byte.toString(2).replaceAll('0', '').length, 0);
  const total = draws.reduce((n, d) => n + d.length * 8, 0);
  t.ok(Math.abs(bits / total - 0.5) < 0.02, `about half the bits set (${(bits / total).toFixed(3)})`);
});
