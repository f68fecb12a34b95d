import { createEvent, dealUpdated, webhookDeliveriesRecorded } from '@citydeals/contracts';
import { Webhook } from 'standardwebhooks';
import t from 'tap';
import { configSchema } from '../src/config.ts';
import type { ClaimedMessage } from '../src/webhooks/delivery.repository.ts';
import { attemptLogRow, deliveredEvent } from '../src/webhooks/delivery.service.ts';
import { MAX_PAYLOAD_BYTES, webhookIdFor, webhookPayload } from '../src/webhooks/payload.rules.ts';
import {
  decideAfterAttempt,
  hasFailedTooLong,
  maxRetryAfterMs,
  parseDuration,
  parseRetryAfter,
  withJitter,
} from '../src/webhooks/retry.rules.ts';
import { createSecretCipher } from '../src/webhooks/secret.cipher.ts';
import { formatSecret, signingSecrets } from '../src/webhooks/secret.rules.ts';
import {
  checkAddress,
  checkTargetUrl,
  parseIpv4,
  parseIpv6,
  parsePortRanges,
} from '../src/webhooks/ssrf.rules.ts';
import { signWebhook } from '../src/webhooks/webhook.signer.ts';
import { verifyStandardWebhook } from './webhooks.receiver.ts';

const now = new Date('2026-11-28T12:00:00Z');
const policy = { delaysMs: [5_000, 300_000, 1_800_000], jitter: 0 };
const half = () => 0.5;
const error = { kind: 'error', error: 'ECONNREFUSED' } as const;
const status = (code: number, retryAfter: string | null = null) =>
  ({ kind: 'response', status: code, retryAfter }) as const;

t.test('retry rules', async (t) => {
  t.same(decideAfterAttempt(1, status(200), policy, now, half), { action: 'delivered' });
  t.same(decideAfterAttempt(1, status(299), policy, now, half), { action: 'delivered' });
  t.same(decideAfterAttempt(1, status(500), policy, now, half), { action: 'retry', delayMs: 5_000 });
  t.same(decideAfterAttempt(2, error, policy, now, half), { action: 'retry', delayMs: 300_000 });
  t.same(
    decideAfterAttempt(1, status(301), policy, now, half),
    { action: 'retry', delayMs: 5_000 },
    '3xx fails',
  );
  t.same(decideAfterAttempt(1, status(304), policy, now, half).action, 'retry');
  t.same(decideAfterAttempt(4, status(500), policy, now, half), {
    action: 'give-up',
    reason: 'retries_exhausted',
  });
  t.same(decideAfterAttempt(1, status(410), policy, now, half), {
    action: 'disable-endpoint',
    reason: 'endpoint_gone',
  });
  t.same(decideAfterAttempt(1, status(429, '120'), policy, now, half), { action: 'retry', delayMs: 120_000 });
  t.same(
    decideAfterAttempt(1, status(503, '1'), policy, now, half),
    { action: 'retry', delayMs: 5_000 },
    'never sooner',
  );
  t.same(
    decideAfterAttempt(1, status(500, '120'), policy, now, half),
    { action: 'retry', delayMs: 5_000 },
    'only 429/503',
  );
  t.same(decideAfterAttempt(1, status(429, '999999999'), policy, now, half), {
    action: 'retry',
    delayMs: maxRetryAfterMs,
  });
  t.equal(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now), 30_000);
  t.equal(parseRetryAfter('soon', now), undefined);
  t.equal(parseRetryAfter(null, now), undefined);
  t.equal(
    withJitter(10_000, 0.1, () => 0),
    9_000,
  );
  t.equal(
    withJitter(10_000, 0.1, () => 0.999999),
    10_000 + 1_000 - 0,
  );
  t.equal(
    withJitter(0, 0.5, () => 0),
    0,
  );
  const jittered = decideAfterAttempt(2, error, { ...policy, jitter: 0.2 }, now, () => 0.25);
  t.same(jittered, { action: 'retry', delayMs: 270_000 });
  t.notOk(hasFailedTooLong(null, now, 1000));
  t.notOk(hasFailedTooLong(new Date(now.getTime() - 999), now, 1000));
  t.ok(hasFailedTooLong(new Date(now.getTime() - 5 * 86_400_000), now, 5 * 86_400_000));
  t.equal(parseDuration('250ms'), 250);
  t.equal(parseDuration('5m'), 300_000);
  t.equal(parseDuration('5d'), 432_000_000);
  t.equal(parseDuration('1.5s'), 1500);
  t.throws(() => parseDuration('5 weeks'));
});

t.test('the retry schedule and other settings come from config, checked', async (t) => {
  const base = { DATABASE_URL: 'postgres://x@h/db' };
  const defaults = configSchema.parse(base);
  t.same(
    defaults.WEBHOOK_RETRY_SCHEDULE,
    [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
  );
  t.equal(defaults.WEBHOOK_ATTEMPT_TIMEOUT, 15_000);
  t.equal(defaults.WEBHOOK_DISABLE_AFTER, 5 * 86_400_000);
  const custom = configSchema.parse({
    ...base,
    WEBHOOK_RETRY_SCHEDULE: '100ms,2s',
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8, ::1/128',
  });
  t.same(custom.WEBHOOK_RETRY_SCHEDULE, [100, 2000]);
  t.same(custom.WEBHOOK_ALLOWED_CIDRS, ['127.0.0.0/8', '::1/128']);
  t.notOk(configSchema.safeParse({ ...base, WEBHOOK_RETRY_SCHEDULE: '5s,soon' }).success);
  t.notOk(configSchema.safeParse({ ...base, WEBHOOK_ALLOWED_CIDRS: '10.0.0.0/33' }).success);
  t.notOk(configSchema.safeParse({ ...base, WEBHOOK_SECRET_KEY: 'c2hvcnQ=' }).success);
});

t.test('SSRF rules: every spelling of a non-public address is refused', async (t) => {
  t.same(parseIpv4('127.1'), [127, 0, 0, 1]);
  t.same(parseIpv4('2130706433'), [127, 0, 0, 1]);
  t.same(parseIpv4('0x7f.0.0.1'), [127, 0, 0, 1]);
  t.same(parseIpv4('0x7f000001'), [127, 0, 0, 1]);
  t.same(parseIpv4('0177.0.0.1'), [127, 0, 0, 1]);
  t.same(parseIpv4('017700000001'), [127, 0, 0, 1]);
  t.same(parseIpv4('169.254.43518'), [169, 254, 169, 254]);
  t.equal(parseIpv4('256.0.0.1'), null);
  t.equal(parseIpv4('example.org'), null);
  t.equal(parseIpv4('08.0.0.1'), null, '08 is neither octal nor decimal');
  t.same(parseIpv6('::ffff:127.0.0.1')?.slice(10), [0xff, 0xff, 127, 0, 0, 1]);
  t.equal(parseIpv6('1::2::3'), null);

  const refused = [
    '127.0.0.1',
    '127.1',
    '2130706433',
    '0x7f.0.0.1',
    '0177.0.0.1',
    '017700000001',
    '10.1.2.3',
    '172.31.0.1',
    '192.168.0.10',
    '169.254.169.254',
    '169.254.43518',
    '100.100.100.200',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.251',
    '239.255.255.250',
    '255.255.255.255',
    '::1',
    '::',
    '0:0:0:0:0:0:0:1',
    'fe80::1',
    'fe80::1%eth0',
    'fc00::1',
    'fd12:3456::1',
    'fd00:ec2::254',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:a9fe:a9fe',
    '0:0:0:0:0:ffff:a9fe:a9fe',
    '::127.0.0.1',
    '64:ff9b::7f00:1',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::1',
    '2001:db8::1',
    // IPv4-translated (SIIT), IPv4-compatible, NAT64 (well-known and local-use), 6to4, Teredo forms.
    '::ffff:0:127.0.0.1',
    '::ffff:0:7f00:1',
    '0:0:0:0:ffff:0:a00:1',
    '::ffff:0:a9fe:a9fe',
    '::ffff:0:c0a8:1',
    '::10.0.0.1',
    '::a9fe:a9fe',
    '64:ff9b::10.0.0.1',
    '64:ff9b::192.168.1.1',
    '64:ff9b:1::8.8.8.8',
    '2002:a00:1::',
    '2002:c0a8:101::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
  ];
  for (const address of refused) t.equal(checkAddress(address).allowed, false, address);
  for (const address of [
    '93.184.216.34',
    '8.8.8.8',
    '2606:4700::6810:85e5',
    '64:ff9b::808:808',
    '::ffff:8.8.8.8',
    '::ffff:0:8.8.8.8',
  ]) {
    t.equal(checkAddress(address).allowed, true, address);
  }
  t.match(checkAddress('169.254.169.254'), { allowed: false, reason: /metadata/ });
  t.match(checkAddress('::ffff:127.0.0.1'), { allowed: false, reason: /loopback/ });
  t.match(checkAddress('::ffff:0:10.1.2.3'), { allowed: false, reason: /embeds 10\.1\.2\.3 is not public/ });
  t.equal(checkTargetUrl('http://[::ffff:0:127.0.0.1]/').allowed, false, 'in a URL too');

  const allow = { hosts: ['receiver.test'], cidrs: ['127.0.0.0/8'], ports: parsePortRanges('*') };
  t.equal(checkAddress('127.0.0.5', allow).allowed, true, 'an allowed CIDR opens its range');
  t.equal(checkAddress('::ffff:127.0.0.5', allow).allowed, true, 'also in IPv4-mapped form');
  t.equal(checkAddress('::1', allow).allowed, false, 'and nothing else');
  t.equal(checkAddress('10.0.0.1', allow).allowed, false);

  for (const url of [
    'ftp://example.org/',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'http://localhost/',
    'http://LOCALHOST./',
    'http://a.localhost/',
    'http://metadata.google.internal/',
    'http://printer.local/',
    'http://intranet/',
    'http://u:p@example.org/',
    'http://2130706433/',
    'http://[::ffff:127.0.0.1]:8080/',
    'not a url',
  ]) {
    t.equal(checkTargetUrl(url).allowed, false, url);
  }
  t.match(checkTargetUrl('https://hooks.example.org/x?y=1'), {
    allowed: true,
    host: 'hooks.example.org',
    ipLiteral: null,
  });
  t.match(checkTargetUrl('http://receiver.test:8080/', allow), { allowed: true });
  t.match(checkTargetUrl('http://0x7f.1:9/', allow), { allowed: true, ipLiteral: '127.0.0.1' });
});

t.test('webhook targets use the allowed ports only: 80 and 443 unless configured', async (t) => {
  t.equal(checkTargetUrl('https://hooks.example.org/x').allowed, true, 'https, default port');
  t.equal(checkTargetUrl('http://hooks.example.org:80/x').allowed, true);
  t.equal(checkTargetUrl('https://hooks.example.org:443/x').allowed, true);
  for (const url of [
    'https://hooks.example.org:8443/x',
    'http://hooks.example.org:22/',
    'http://hooks.example.org:6379/',
    'http://hooks.example.org:25/',
  ]) {
    t.match(checkTargetUrl(url), { allowed: false, reason: /port \d+ is not allowed/ }, url);
  }
  const ports = parsePortRanges('443, 8000-8999');
  const allow = { hosts: [], cidrs: [], ports };
  t.equal(checkTargetUrl('https://hooks.example.org:8443/x', allow).allowed, true, 'a configured range');
  t.equal(checkTargetUrl('http://hooks.example.org/x', allow).allowed, false, '80 no longer allowed');
  t.same(parsePortRanges('*'), [[1, 65_535]]);
  for (const bad of ['0', '70000', '9-8', 'http', '80;443']) t.throws(() => parsePortRanges(bad), bad);

  const base = { DATABASE_URL: 'postgres://x@localhost/db' };
  t.same(
    configSchema.parse(base).WEBHOOK_ALLOWED_PORTS,
    [
      [80, 80],
      [443, 443],
    ],
    'production default',
  );
  t.same(configSchema.parse({ ...base, WEBHOOK_ALLOWED_PORTS: '*' }).WEBHOOK_ALLOWED_PORTS, [[1, 65_535]]);
  t.notOk(configSchema.safeParse({ ...base, WEBHOOK_ALLOWED_PORTS: '80,http' }).success);
});

t.test('secrets, signatures and payloads', async (t) => {
  const bytes = new Uint8Array(32).fill(7);
  const secret = formatSecret(bytes);
  t.equal(secret, `whsec_${Buffer.from(bytes).toString('base64')}`);
  t.throws(() => formatSecret(new Uint8Array(16)), /24 to 64/);
  const old = formatSecret(new Uint8Array(32).fill(9));
  const endpoint = { secret, previousSecret: old, previousSecretExpiresAt: new Date(now.getTime() + 1000) };
  t.same(signingSecrets(endpoint, now), [secret, old]);
  t.same(signingSecrets(endpoint, new Date(now.getTime() + 1000)), [secret], 'grace over');
  t.same(signingSecrets({ ...endpoint, previousSecret: null }, now), [secret]);

  const body = '{"type":"x"}';
  const signedAt = new Date();
  const headers = signWebhook('msg_1', signedAt, body, [secret, old]);
  t.equal(
    headers['webhook-signature'],
    [secret, old].map((s) => new Webhook(s).sign('msg_1', signedAt, body)).join(' '),
    'signed as the standardwebhooks library signs',
  );
  t.ok(verifyStandardWebhook(secret, headers as never, body));
  t.ok(verifyStandardWebhook(old, headers as never, body));
  t.notOk(
    verifyStandardWebhook(secret, { ...headers, 'webhook-id': 'msg_2' } as never, body),
    'id is signed',
  );

  t.equal(webhookIdFor('01936c10-6071-7283-9495-a6b7c8d9e0f1'), 'msg_01936c10607172839495a6b7c8d9e0f1');
  const event = createEvent(dealUpdated, {
    id: '01936a99-0000-7abc-8def-0123456789ab',
    time: now,
    source: '/deal-tracking',
    subject: dealUpdated.example.dealId,
    data: dealUpdated.example,
  });
  t.same(JSON.parse(webhookPayload(event)), event, 'the event itself');
  const huge = { ...event, data: { ...event.data, summary: 'x'.repeat(MAX_PAYLOAD_BYTES) } };
  const thin = JSON.parse(webhookPayload(huge as never));
  t.same(thin.data, { dealId: event.data.dealId, version: event.data.version, truncated: true });
  t.equal(thin.type, event.type);

  const cipher = createSecretCipher(Buffer.alloc(32, 1).toString('base64'));
  const sealed = cipher.seal(secret, 'endpoint-a');
  t.notMatch(sealed, secret.slice(6));
  t.equal(cipher.open(sealed, 'endpoint-a'), secret);
  t.throws(() => cipher.open(sealed, 'endpoint-b'), 'bound to its endpoint');
  t.throws(() => createSecretCipher(undefined).open(sealed, 'endpoint-a'), /WEBHOOK_SECRET_KEY/);
  t.equal(createSecretCipher(undefined).open(createSecretCipher(undefined).seal(secret, 'e'), 'e'), secret);
});

t.test('a batch of successful attempts: one delivered event listing them, and log rows', async (t) => {
  const startedAt = new Date('2026-11-28T12:00:00Z');
  const message = (id: string, attempts: number): ClaimedMessage => ({
    id,
    endpoint_id: '01a22300-0000-7000-8000-0000000000e1',
    webhook_id: `msg_${id.replaceAll('-', '')}`,
    event_id: '01a22300-0000-7000-8000-0000000000ee',
    event_type: 'nl.citydeals.deal_tracking.deal.phase_changed.v1',
    deal_id: '01a22300-0000-7000-8000-0000000000de',
    deal_version: 4,
    payload: '{}',
    attempts,
    round_start: 0,
    version: 2,
    url: 'https://example.org/hook',
    secret: 'whsec_x',
    previous_secret: null,
    previous_secret_expires_at: null,
    traceparent: null,
  });
  const [m1, m2] = ['01a22300-0000-7000-8000-000000000001', '01a22300-0000-7000-8000-000000000002'];
  const result = (status: number | null) => ({
    status,
    retryAfter: null,
    body: 'ok',
    error: null,
    durationMs: 7,
  });
  const attempts = [
    {
      message: message(m1, 1),
      leaseToken: 'l1',
      startedAt,
      webhookTimestamp: 1_796_040_000,
      result: result(200),
    },
    {
      message: message(m2, 3),
      leaseToken: 'l2',
      startedAt,
      webhookTimestamp: 1_796_040_000,
      result: result(204),
    },
  ];
  const ids = {
    eventId: '01a22300-0000-7000-8000-000000000101',
    settlementId: '01a22300-0000-7000-8000-000000000102',
  };
  const listed = deliveredEvent(attempts, startedAt, ids);
  t.same(
    listed.items.map((i) => i.key),
    [m1, m2],
    'each delivery keyed by its message: listed only if the statement settles it',
  );
  const whole = JSON.parse(`${listed.before}${listed.items.map((i) => i.json).join(',')}${listed.after}`);
  t.ok(webhookDeliveriesRecorded.schema.safeParse(whole).success, 'the whole list is the event as validated');
  const part = JSON.parse(`${listed.before}${listed.items[1]!.json}${listed.after}`);
  t.ok(webhookDeliveriesRecorded.schema.safeParse(part).success, 'and so is any part the statement keeps');
  t.equal(listed.subject, webhookDeliveriesRecorded.subject);
  t.equal(part.id, ids.eventId);
  t.equal(part.subject, ids.settlementId, 'about the settlement, not one message');
  t.equal(part.data.settlementId, ids.settlementId);
  t.equal(part.type, webhookDeliveriesRecorded.type);
  t.same(part.data.deliveries.length, 1);
  t.match(part.data.deliveries[0], {
    deliveryId: m2,
    version: 3,
    webhookId: `msg_${m2.replaceAll('-', '')}`,
    dealVersion: 4,
    attempts: 3,
    statusCode: 204,
    durationMs: 7,
    deliveredAt: startedAt.toISOString(),
  });
  t.same(attemptLogRow(attempts[1]!), {
    message_id: m2,
    attempt: 3,
    started_at: startedAt,
    duration_ms: 7,
    webhook_timestamp: 1_796_040_000,
    status_code: 204,
    error: null,
    response_body: 'ok',
    outcome: 'delivered',
  });
  t.throws(
    () => deliveredEvent([{ ...attempts[0]!, result: result(null) }], startedAt, ids),
    /no response/,
    'an attempt without a response is never settled as delivered',
  );
});
