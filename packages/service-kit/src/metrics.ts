import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** One registry per service instance, so tests can build many services in one process. */
export function createMetrics(service: string) {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  return { registry, httpDuration };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Gauges and counters whose values are read from their source when Prometheus scrapes. */
export function registerCollected(
  registry: Registry,
  definition: { name: string; help: string; labelNames?: string[]; type: 'gauge' | 'counter' },
  collect: () => Promise<{ labels?: Record<string, string>; value: number }[]>,
): void {
  const Metric = definition.type === 'gauge' ? Gauge : Counter;
  new Metric({
    name: definition.name,
    help: definition.help,
    labelNames: definition.labelNames ?? [],
    registers: [registry],
    async collect() {
      this.reset();
      for (const { labels, value } of await collect()) {
        if (this instanceof Gauge) this.set(labels ?? {}, value);
        else (this as Counter).inc(labels ?? {}, value);
      }
    },
  });
}
