/** One row of the benchmark table: the system's figure beside the raw infrastructure's, measured in one run. */
export interface BenchRow {
  scenario: string;
  system: Figure;
  raw?: Figure | undefined;
  /** system / raw for throughput; raw / system for latency, so that 1.0 is "as fast as raw" either way. */
  ratio?: number | undefined;
  /** A library a team would otherwise pick for the same job, measured in the same run; rendered beside raw. */
  peer?: Figure | undefined;
  /** system / peer, the same way round as `ratio`. */
  peerRatio?: number | undefined;
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

function baselines(r: BenchRow): string {
  return r.peer ? `${describe(r.raw)}; peer: ${describe(r.peer)}` : describe(r.raw);
}

function ratios(r: BenchRow): string {
  const ratio = String(r.ratio ?? '—');
  return r.peerRatio !== undefined ? `${ratio} (vs peer ${r.peerRatio})` : ratio;
}

export function renderTable(rows: BenchRow[]): string {
  const lines = [
    '| scenario | system | raw baseline (same run) | ratio | goal |',
    '| --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) => `| ${r.scenario} | ${describe(r.system)} | ${baselines(r)} | ${ratios(r)} | ${r.goal ?? '—'} |`,
    ),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.scenario}: ${r.note}`);
  if (notes.length) lines.push('', ...notes);
  return lines.join('\n');
}
