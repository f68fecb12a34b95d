import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { withAdmin } from '@citydeals/testkit';
import { type BenchRow, renderTable } from './report.ts';
import { confirmationE2eScenario } from './scenarios/confirmation-e2e.scenario.ts';
import { consoleOverviewScenario } from './scenarios/console-overview.scenario.ts';
import { dealTrackingRssScenario } from './scenarios/deal-tracking-rss.scenario.ts';
import { meetingsListScenario } from './scenarios/meetings-list.scenario.ts';
import { messageScenario } from './scenarios/message.scenario.ts';
import { outboxRelayScenario } from './scenarios/outbox-relay.scenario.ts';
import { registrationScenarios } from './scenarios/registration.scenario.ts';
import { registrationScaleScenario } from './scenarios/registration-scale.scenario.ts';
import { remindersScenario } from './scenarios/reminders.scenario.ts';
import { sessionsScenario } from './scenarios/sessions.scenario.ts';
import { smtpOutageScenario } from './scenarios/smtp-outage.scenario.ts';
import { webhooksScenario } from './scenarios/webhooks.scenario.ts';
import { peakRssByService } from './services.ts';

// Select with a substring of the name: `npm run bench -- reminders webhooks`.
const scenarios: { name: string; run: () => Promise<BenchRow | BenchRow[]> }[] = [
  { name: 'outbox relay', run: outboxRelayScenario },
  { name: 'registrations', run: registrationScenarios },
  { name: 'reminders', run: remindersScenario },
  { name: 'webhooks', run: webhooksScenario },
  { name: 'e2e confirmation', run: confirmationE2eScenario },
  { name: 'registration scale', run: registrationScaleScenario },
  { name: 'deal-tracking rss', run: dealTrackingRssScenario },
  { name: 'meetings list', run: meetingsListScenario },
  { name: 'smtp outage', run: smtpOutageScenario },
  { name: 'console overview', run: consoleOverviewScenario },
  { name: 'sessions', run: sessionsScenario },
  { name: 'message to 2 000 attendees', run: messageScenario },
];

// Interrupted: exit through process.exit so the spawned services and sinks are killed (processes.ts).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));

const only = process.argv.slice(2);
const rows: BenchRow[] = [];
const failures: string[] = [];
for (const scenario of scenarios) {
  if (only.length && !only.some((o) => scenario.name.includes(o))) continue;
  process.stdout.write(`… ${scenario.name}\n`);
  try {
    // pgbench's advice: start each measurement after a checkpoint, so the pages the previous scenario
    // dirtied are not written (and fsynced) in the middle of this one.
    await withAdmin((c) => c.query('checkpoint'));
    const result = await scenario.run();
    rows.push(...(Array.isArray(result) ? result : [result]));
  } catch (err) {
    failures.push(`${scenario.name}: ${(err as Error).message}`);
    process.stdout.write(`✗ ${scenario.name}: ${(err as Error).stack}\n`);
  }
}

// One row per service that ran: the highest VmHWM any scenario saw (each service process reads its own).
for (const [service, { mb, during }] of peakRssByService) {
  rows.push({
    scenario: `peak RSS of the ${service} service`,
    system: { label: `VmHWM, highest over: ${[...new Set(during)].join(', ')}`, value: mb, unit: 'MB' },
    goal: '≤ 150 MB',
  });
}
const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
const when = new Date().toISOString();
const table = renderTable(rows);
process.stdout.write(`\nBenchmark ${when} on ${machine}\n\n${table}\n`);
const dir = join(import.meta.dirname, '../../../bench-results');
mkdirSync(dir, { recursive: true });
const file = join(dir, `bench-${when.replaceAll(':', '-')}.json`);
writeFileSync(file, JSON.stringify({ when, machine, rows, failures }, null, 2));
writeFileSync(join(dir, 'latest.md'), `Benchmark ${when} on ${machine}\n\n${table}\n`);
process.stdout.write(`\nwritten ${file}\n`);
process.exit(failures.length ? 1 : 0);
