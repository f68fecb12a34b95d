import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { type BenchRow, renderTable } from './report.ts';
import { outboxRelayScenario } from './scenarios/outbox-relay.scenario.ts';
import { registrationScenarios } from './scenarios/registration.scenario.ts';

const peakRss: BenchRow[] = [];
const scenarios: { name: string; run: () => Promise<BenchRow | BenchRow[]> }[] = [
  { name: 'outbox relay', run: outboxRelayScenario },
  {
    name: 'registrations',
    run: async () => {
      const { rows, peakRssMb } = await registrationScenarios();
      peakRss.push({
        scenario: 'peak RSS of the registration service during its load',
        system: { label: 'VmHWM', value: peakRssMb, unit: 'MB' },
        goal: '≤ 150 MB',
      });
      return rows;
    },
  },
];

const only = process.argv.slice(2);
const rows: BenchRow[] = [];
const failures: string[] = [];
for (const scenario of scenarios) {
  if (only.length && !only.some((o) => scenario.name.includes(o))) continue;
  process.stdout.write(`… ${scenario.name}\n`);
  try {
    const result = await scenario.run();
    rows.push(...(Array.isArray(result) ? result : [result]));
  } catch (err) {
    failures.push(`${scenario.name}: ${(err as Error).message}`);
    process.stdout.write(`✗ ${scenario.name}: ${(err as Error).stack}\n`);
  }
}

rows.push(...peakRss);
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
