// Load generator in its own process, so it never competes with the measured server for the event loop.
// Input (argv[2], JSON): url, meetingIds, connections, durationSeconds, overallRate?; prints autocannon's result.
import autocannon from 'autocannon';

const options = JSON.parse(process.argv[2]!) as {
  url: string;
  meetingIds: string[];
  connections: number;
  durationSeconds: number;
  overallRate?: number;
  label: string;
};
let n = 0;
const run = autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.durationSeconds,
  ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  requests: [
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (request) => {
        n += 1;
        const meetingId = options.meetingIds[n % options.meetingIds.length]!;
        return {
          ...request,
          path: `/meetings/${meetingId}/registrations`,
          body: JSON.stringify({
            name: `Deelnemer ${n}`,
            email: `${options.label}-${process.pid}-${n}@example.org`,
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
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  })}\n`,
);
