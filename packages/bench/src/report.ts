/** One row of the benchmark table: the system's figure beside the raw infrastructure's, measured in one run. */
export interface BenchRow {
  scenario: string;
  system: Figure;
  raw?: Figure | undefined;
  /** system / raw for throughput; raw / system for latency, so that 1.0 is "as fast as raw" either way. */
  ratio?: number | undefined;
  goal?: string | undefined;
  note?: string | undefined;
}

export interface Figure {
  label: string;
  value: number;
  unit: string;
  p50?: number | undefined;
  p95?: number | undefined;
  p99?: number | undefined;
}

export function throughputRatio(system: Figure, raw: Figure): number {
  return round(system.value / raw.value, 2);
}

export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function describe(f: Figure | undefined): string {
  if (!f) return '—';
  const pct = [
    f.p50 !== undefined ? `p50 ${f.p50}` : '',
    f.p95 !== undefined ? `p95 ${f.p95}` : '',
    f.p99 !== undefined ? `p99 ${f.p99}` : '',
  ]
    .filter(Boolean)
    .join(' / ');
  return `${f.value} ${f.unit}${pct ? ` (${pct} ms)` : ''} — ${f.label}`;
}

export function renderTable(rows: BenchRow[]): string {
  const lines = [
    '| scenario | system | raw baseline (same run) | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${describe(r.system)} | ${describe(r.raw)} | ${r.ratio ?? '—'} | ${r.goal ?? '—'} |`,
    ),
  ];
  return lines.join('\n');
}
