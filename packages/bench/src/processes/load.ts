// Load generator in its own process, so it never competes with the measured server for the event loop.
// Input (argv[2], JSON): url, meetingIds, connections, durationSeconds, overallRate?, recordStarts?; prints
// autocannon's result. With recordStarts it adds, per email address, the Date.now() at which autocannon built
// the request (just before writing it; for the first request of each connection, at connect time), so that a
// later effect such as the confirmation mail can be timed from the request's start.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]!) as {
  url: string;
  meetingIds: string[];
  connections: number;
  durationSeconds: number;
  overallRate?: number;
  recordStarts?: boolean;
  /** GET this path (with these headers) instead of POSTing registrations. */
  get?: { path: string; headers: Record<string, string> };
  label: string;
};
let n = 0;
const starts: Record<string, number> = {};
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
            n += 1;
            const meetingId = options.meetingIds[n % options.meetingIds.length]!;
            const email = `${options.label}-${process.pid}-${n}@example.org`;
            if (options.recordStarts) starts[email] = Date.now();
            return {
              ...request,
              path: `/meetings/${meetingId}/registrations`,
              body: JSON.stringify({
                name: `Deelnemer ${n}`,
                email,
                organisation: 'Gemeente Voorbeeld',
                role: 'partner',
                consents: { photo: false, attendeeList: true },
              }),
            };
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
