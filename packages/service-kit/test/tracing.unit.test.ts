import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { formatTraceparent, parseTraceparent } from '@citydeals/messaging';
import pino from 'pino';
import t from 'tap';
import { validate } from 'uuid';
import { ConfigError } from '../src/config.ts';
import { createHttpServer } from '../src/http-server.ts';
import { requestIdOf, tracingConfig } from '../src/tracing.ts';

t.test('tracing is off unless the environment names an OTLP endpoint or exporter', async (t) => {
  const endpoint = 'http://collector:4318';
  t.equal(tracingConfig({}).enabled, false, 'off by default');
  t.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }).enabled, true, 'an endpoint turns it on');
  t.equal(tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${endpoint}/v1/traces` }).enabled, true);
  t.equal(tracingConfig({ OTEL_TRACES_EXPORTER: 'otlp' }).enabled, true, 'otlp to the default endpoint');
  t.equal(
    tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_EXPORTER: 'none' }).enabled,
    false,
    'none turns it off',
  );
  t.equal(
    tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_SDK_DISABLED: 'true' }).enabled,
    false,
    'the SDK disabled turns it off',
  );
  t.equal(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).enabled, false, 'an empty endpoint is unset');
  t.throws(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin' }), ConfigError, 'other exporters refused');
  t.throws(() => tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }), ConfigError);
});

t.test("the caller's x-request-id is kept when it is a plausible id, else a UUID is made", async (t) => {
  const of = (header: string | string[] | undefined) =>
    requestIdOf({ headers: header === undefined ? {} : { 'x-request-id': header } } as IncomingMessage);
  t.equal(of('abc-123_4.5:6'), 'abc-123_4.5:6');
  for (const bad of [undefined, '', 'with space', 'line\nbreak', 'x'.repeat(129), ['a', 'b']]) {
    t.ok(validate(of(bad)), `replaced: ${JSON.stringify(bad)?.slice(0, 20)}`);
  }
});

t.test('traceparent values round-trip; invalid ones are ignored', async (t) => {
  const value = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const sc = parseTraceparent(value);
  t.match(sc, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true });
  t.equal(formatTraceparent(sc!), value);
  t.equal(formatTraceparent(parseTraceparent(value.replace(/01$/, '00'))!), value.replace(/01$/, '00'));
  for (const bad of [
    undefined,
    '',
    '01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    `00-${'0'.repeat(32)}-b7ad6b7169203331-01`,
    `00-0af7651916cd43dd8448eb211c80319c-${'0'.repeat(16)}-01`,
    '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
  ]) {
    t.equal(parseTraceparent(bad), undefined, `ignored: ${bad}`);
  }
});

t.test('the request id is answered and is on every log line of the request', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  const app = await createHttpServer({ logger: pino({ level: 'info' }, sink), title: 't', description: 'd' });
  t.teardown(() => app.close());
  app.get('/hello', async (request) => {
    request.log.info('handling');
    return { ok: true };
  });
  const given = await app.inject({ url: '/hello', headers: { 'x-request-id': 'caller-42' } });
  t.equal(given.headers['x-request-id'], 'caller-42', "the caller's id is answered");
  t.equal(lines.find((l) => l.msg === 'handling')?.requestId, 'caller-42', 'and logged by the handler');
  const made = await app.inject({ url: '/hello' });
  const id = made.headers['x-request-id'];
  t.ok(typeof id === 'string' && validate(id), 'without one a UUID is made and answered');
  t.ok(
    lines.some((l) => l.msg === 'handling' && l.requestId === id),
    'and logged',
  );
});
