import t from 'tap';
import { decideRestart, type RestartPolicy } from '../src/restart.rules.ts';

const policy: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 4_000, maxRestarts: 5, windowMs: 60_000 };

t.test('a first crash is restarted after the initial delay', async (t) => {
  t.same(decideRestart([], 10_000, policy), { kind: 'restart', delayMs: 500, attempt: 1, of: 5 });
});

t.test('crashes inside the window double the delay up to its cap', async (t) => {
  const delays = [];
  const crashes: number[] = [];
  for (let now = 1_000; crashes.length < 5; now += 1_000) {
    const decision = decideRestart(crashes, now, policy);
    if (decision.kind !== 'restart') throw new Error(`gave up after ${crashes.length}`);
    delays.push(decision.delayMs);
    crashes.push(now);
  }
  t.same(delays, [500, 1_000, 2_000, 4_000, 4_000]);
});

t.test('one crash too many inside the window gives up', async (t) => {
  const crashes = [1_000, 2_000, 3_000, 4_000, 5_000];
  t.same(decideRestart(crashes, 6_000, policy), { kind: 'give-up', crashes: 6, windowMs: 60_000 });
});

t.test('crashes older than the window are forgiven', async (t) => {
  const crashes = [1_000, 2_000, 3_000, 4_000, 5_000];
  t.same(decideRestart(crashes, 5_000 + 60_000, policy), {
    kind: 'restart',
    delayMs: 500,
    attempt: 1,
    of: 5,
  });
  t.equal(
    decideRestart(crashes, 1_000 + 60_000, policy).kind,
    'restart',
    'the oldest one has left the window',
  );
});
