// The alerts mailed by the service and the Prometheus rules in infra/prometheus/alerts.yml judge the same
// figures: their default thresholds must not part ways.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';
import { configSchema } from '../../src/config.ts';

const rulesFile = fileURLToPath(new URL('../../../../infra/prometheus/alerts.yml', import.meta.url));
const rules = new Map<string, { expr: string; for?: string }>(
  (
    parse(readFileSync(rulesFile, 'utf8')) as {
      groups: { rules: { alert: string; expr: string; for?: string }[] }[];
    }
  ).groups
    .flatMap((g) => g.rules)
    .map((r) => [r.alert, r]),
);
const defaults = configSchema.parse({ DATABASE_URL: 'postgres://notification@127.0.0.1/citydeals' });
const minutes = (text: string | undefined) => Number(/^(\d+)m$/.exec(text ?? '')?.[1]) * 60_000;

t.test('mails failing: the same share and minimum volume', async (t) => {
  const expr = rules.get('CityDealsMailsFailing')?.expr ?? '';
  t.match(expr, `> ${defaults.ALERT_MAIL_FAILED_RATIO}`);
  t.match(expr, `>= ${defaults.ALERT_MAIL_MIN_VOLUME}`);
  t.equal(defaults.ALERT_MAIL_WINDOW, 15 * 60_000, 'the gauges count 15 minutes');
});

t.test('mails suppressed: the same number', async (t) => {
  t.match(rules.get('CityDealsMailsSuppressed')?.expr, `> ${defaults.ALERT_MAIL_SUPPRESSED}`);
});

t.test('a consumer falling behind: the same backlog for the same time', async (t) => {
  const rule = rules.get('CityDealsConsumerFallingBehind');
  t.match(rule?.expr, `> ${defaults.CONSUMER_LAG_THRESHOLD}`);
  t.equal(minutes(rule?.for), defaults.CONSUMER_LAG_AFTER_MS);
});
