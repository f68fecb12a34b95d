// The alert rules and the dashboard are read by the tools that will run them: promtool parses and unit-tests
// the rules, and parses every dashboard query as PromQL. Which metrics they may name is checked against a
// running service in services/notification/test/operations/delivery-metrics.test.ts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { stringify } from 'yaml';

const infra = fileURLToPath(new URL('../', import.meta.url));
const prometheusDir = join(infra, 'prometheus');

function promtool(...args: string[]) {
  const run = spawnSync('promtool', args, { cwd: prometheusDir, encoding: 'utf8' });
  if (run.error)
    throw new Error(`promtool is not installed (Debian: apt-get install prometheus): ${run.error.message}`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

t.test('alert rules: promtool checks them and their unit tests pass', async (t) => {
  const check = promtool('check', 'rules', 'alerts.yml');
  t.equal(check.status, 0, 'promtool check rules', { output: check.output });
  t.match(check.output, /SUCCESS: 10 rules found/);
  const tests = promtool('test', 'rules', 'alerts.test.yml');
  t.equal(tests.status, 0, 'promtool test rules', { output: tests.output });
  const config = promtool('check', 'config', 'prometheus.yml');
  t.equal(config.status, 0, 'the example Prometheus config loads the rules', { output: config.output });
});

t.test('a rule test that expects the wrong thing fails (the tests are read, not skipped)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rules-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'alerts.yml'), readFileSync(join(prometheusDir, 'alerts.yml')));
  const wrong = readFileSync(join(prometheusDir, 'alerts.test.yml'), 'utf8').replace(
    'summary: "Webhook endpoint e1 is disabled"',
    'summary: "Webhook endpoint e2 is disabled"',
  );
  writeFileSync(join(dir, 'alerts.test.yml'), wrong);
  const run = promtool('test', 'rules', join(dir, 'alerts.test.yml'));
  t.not(run.status, 0, 'promtool reports the mismatch');
});

t.test('dashboard: every query is valid PromQL and every panel has a datasource', async (t) => {
  const dashboard = JSON.parse(
    readFileSync(join(infra, 'grafana', 'citydeals-operations.dashboard.json'), 'utf8'),
  );
  t.equal(dashboard.uid, 'citydeals-operations');
  const queries: string[] = [];
  // Grafana's variable syntax, not a template literal: the dashboard asks for its data source on import.
  const datasourceVariable = ['$', '{datasource}'].join('');
  for (const panel of dashboard.panels) {
    t.equal(panel.datasource?.uid, datasourceVariable, `${panel.title}: uses the dashboard's Prometheus`);
    t.ok(panel.targets?.length > 0, `${panel.title}: has queries`);
    for (const target of panel.targets) queries.push(target.expr);
  }
  const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'dashboard-queries.yml');
  writeFileSync(
    file,
    stringify({
      groups: [
        { name: 'dashboard', rules: queries.map((expr, i) => ({ record: `dashboard:query_${i}`, expr })) },
      ],
    }),
  );
  const check = promtool('check', 'rules', file);
  t.equal(check.status, 0, `promtool parses all ${queries.length} queries`, { output: check.output });
});
