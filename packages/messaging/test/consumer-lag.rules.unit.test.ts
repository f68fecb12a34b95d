import t from 'tap';
import { decideLag } from '../src/consumer-lag.rules.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 23, 10, minute));
const policy = { threshold: 1000, afterMs: 10 * 60_000 };

t.test('decideLag: behind for the whole period, then reported at every check', async (t) => {
  t.same(
    decideLag(null, 1000, at(0), policy),
    { report: false, behindSince: null },
    'at the threshold keeps up',
  );
  t.same(decideLag(null, 1001, at(0), policy), { report: false, behindSince: at(0) });
  t.same(decideLag(at(0), 5000, at(9), policy), { report: false, behindSince: at(0) });
  t.same(decideLag(at(0), 5000, at(10), policy), { report: true, behindSince: at(0) });
  t.same(decideLag(at(0), 5000, at(11), policy), { report: true, behindSince: at(0) });
});

t.test('a burst worked off within the period is never reported', async (t) => {
  let since = decideLag(null, 4000, at(0), policy).behindSince;
  since = decideLag(since, 2500, at(5), policy).behindSince;
  const caughtUp = decideLag(since, 10, at(8), policy);
  t.same(caughtUp, { report: false, behindSince: null });
  t.same(decideLag(caughtUp.behindSince, 4000, at(12), policy), { report: false, behindSince: at(12) });
});

t.test('afterMs 0 reports at the first check above the threshold', async (t) => {
  t.same(decideLag(null, 2, at(0), { threshold: 1, afterMs: 0 }), { report: true, behindSince: at(0) });
});
