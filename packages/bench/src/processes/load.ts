// Load generator in its own process, so it never competes with the measured server for the event loop.
// Input (argv[2], JSON): url, meetingIds, connections, durationSeconds, overallRate?, recordStarts?; prints
// autocannon's result. With recordStarts it adds, per email address, the Date.now() at which autocannon built
// the request (just before writing it; for the first request of each connection, at connect time), so that a
// later effect such as the confirmation mail can be timed from the request's start. Paced, it also adds
// `answers`: the Date.now() at which each request's response had been read.
//
// With `paced`, requests are sent open-loop at evenly spaced moments (request i at start + i / overallRate)
// through an undici pool instead: autocannon's overallRate lets each connection send its share of a second
// as fast as it can at the start of each second, so "200 req/s" arrives as a burst of 200 every second.
// A paced request's latency and start are counted from the moment it was due, not from when a connection
// took it, so a stalled server cannot hide its backlog (no coordinated omission).
//
// With `paced` and `burst`, each second's overallRate requests are all due at the start of that second and sent
// at once, each on a connection of its own (connections is raised to overallRate): what registration
// opening looks like, many people pressing the button in the same second. Those connections are opened
// before the clock starts, as a browser's is by the page it loaded before the button was pressed.
import autocannon from 'autocannon';
import { Pool } from 'undici';

const options = JSON.parse(process.argv[2]!) as {
  url: string;
  meetingIds: string[];
  connections: number;
  durationSeconds: number;
  overallRate?: number;
  paced?: boolean;
  /** Paced only: each second's requests all due at its start (see above). */
  burst?: boolean;
  recordStarts?: boolean;
  /**
   * GET this path (with these headers) instead of POSTing registrations. Paced, `headersList` is used in
   * turn instead: one set per staff session, say.
   */
  get?: { path: string; headers: Record<string, string>; headersList?: Record<string, string>[] };
  label: string;
};
let n = 0;
const starts: Record<string, number> = {};
const answers: Record<string, number> = {};

function registrationBody(): { path: string; body: string; email: string } {
  n += 1;
  const meetingId = options.meetingIds[n % options.meetingIds.length]!;
  const email = `${options.label}-${process.pid}-${n}@example.org`;
  return {
    path: `/meetings/${meetingId}/registrations`,
    email,
    body: JSON.stringify({
      name: `Deelnemer ${n}`,
      email,
      organisation: 'Gemeente Voorbeeld',
      role: 'partner',
      consents: { photo: false, attendeeList: true },
    }),
  };
}

if (options.paced) {
  if (!options.overallRate) throw new Error('paced load needs overallRate');
  // Exit once the whole result is written: a pipe takes a few dozen KB at a time, and exiting earlier cut
  // off the start times of a long run.
  const result = `${JSON.stringify(await pacedRun(options.overallRate))}\n`;
  await new Promise((resolve) => process.stdout.write(result, resolve));
  process.exit(0);
}

async function pacedRun(rate: number) {
  const connections = options.burst ? Math.max(options.connections, rate) : options.connections;
  const pool = new Pool(options.url, { connections, pipelining: 1 });
  const latencies: number[] = [];
  let ok2xx = 0;
  let non2xx = 0;
  let errors = 0;
  const inFlight = new Set<Promise<void>>();
  const get = options.get;
  let turn = 0;
  const next = () => {
    if (get) {
      const headers = get.headersList?.[turn++ % get.headersList.length] ?? get.headers;
      return { method: 'GET' as const, path: get.path, headers };
    }
    const { path, body, email } = registrationBody();
    return { method: 'POST' as const, path, body, email, headers: { 'content-type': 'application/json' } };
  };
  const send = (dueAt: number) => {
    const { email, ...request } = { email: undefined, ...next() };
    if (options.recordStarts && email) starts[email] = dueAt;
    const sending = pool
      .request(request)
      .then(async (res) => {
        await res.body.dump();
        const answeredAt = Date.now();
        if (options.recordStarts && email) answers[email] = answeredAt;
        latencies.push(answeredAt - dueAt);
        if (res.statusCode >= 200 && res.statusCode < 300) ok2xx += 1;
        else non2xx += 1;
      })
      .catch(() => {
        errors += 1;
      })
      .finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };
  if (options.burst) await openConnections(pool, connections);
  const total = Math.round(rate * options.durationSeconds);
  const startedAt = Date.now();
  const dueAt = options.burst
    ? (i: number) => startedAt + Math.floor(i / rate) * 1000
    : (i: number) => startedAt + (i * 1000) / rate;
  let sent = 0;
  while (sent < total) {
    const now = Date.now();
    for (; sent < total && dueAt(sent) <= now; sent += 1) send(dueAt(sent));
    // Until the next request is due, not a fixed tick: the generator shares the machine it measures.
    if (sent < total) await new Promise((r) => setTimeout(r, Math.max(0, dueAt(sent) - Date.now())));
  }
  await Promise.all(inFlight);
  await pool.close();
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    requests: total,
    rps: (ok2xx * 1000) / (Date.now() - startedAt),
    p50: pct(0.5),
    p95: pct(0.95),
    p97_5: pct(0.975),
    p99: pct(0.99),
    ok2xx,
    non2xx,
    errors,
    timeouts: 0,
    ...(options.recordStarts ? { starts, answers } : {}),
  };
}

/**
 * Opens `count` connections of the pool: as many requests at once, each holding its connection until all
 * have one, so none is reused before the pool has opened the rest.
 */
async function openConnections(pool: Pool, count: number): Promise<void> {
  let opened = 0;
  let allOpen: () => void = () => {};
  const everyOne = new Promise<void>((resolve) => {
    allOpen = resolve;
  });
  await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await pool.request({ method: 'GET', path: '/health/live' });
      opened += 1;
      if (opened === count) allOpen();
      await everyOne;
      await res.body.dump();
    }),
  );
}

const run = autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationSeconds,
  ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  requests: options.get
    ? [{ method: 'GET', path: options.get.path, headers: options.get.headers }]
    : [
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          setupRequest: (request) => {
            const { path, body, email } = registrationBody();
            if (options.recordStarts) starts[email] = Date.now();
            return { ...request, path, body };
          },
        },
      ],
});
const result = await run;
process.stdout.write(
  `${JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p97_5: result.latency.p97_5,
    p99: result.latency.p99,
    ok2xx: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    ...(options.recordStarts ? { starts } : {}),
  })}\n`,
);
