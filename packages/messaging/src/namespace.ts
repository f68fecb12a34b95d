import type { StreamDefinition } from '@citydeals/contracts';

/**
 * A namespace prefixes every subject and stream name so that several installations (or test runs) can
 * share one NATS server without seeing each other's events. Production uses the empty namespace.
 */
export interface Namespace {
  readonly prefix: string;
  subject(subject: string): string;
  /** Strips the prefix from a received subject. */
  unprefix(subject: string): string;
  streamName(stream: StreamDefinition): string;
  streamSubjects(stream: StreamDefinition): string[];
  durable(name: string): string;
}

export function namespace(prefix = ''): Namespace {
  if (prefix !== '' && !/^[A-Za-z0-9_-]+$/.test(prefix)) {
    throw new Error(`event namespace "${prefix}" may only hold letters, digits, _ and -`);
  }
  const dotted = prefix ? `${prefix}.` : '';
  return Object.freeze({
    prefix,
    subject: (subject: string) => `${dotted}${subject}`,
    unprefix: (subject: string) =>
      dotted && subject.startsWith(dotted) ? subject.slice(dotted.length) : subject,
    streamName: (stream: StreamDefinition) => (prefix ? `${prefix}_${stream.name}` : stream.name),
    streamSubjects: (stream: StreamDefinition) => stream.subjects.map((s) => `${dotted}${s}`),
    durable: (name: string) => (prefix ? `${prefix}_${name}` : name),
  });
}
