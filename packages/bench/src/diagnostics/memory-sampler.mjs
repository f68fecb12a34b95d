/**
 * Preloaded into every process the benchmark spawns when BENCH_MEMORY_SAMPLES=<dir> is set (processes.ts).
 * Samples process.memoryUsage() every 20 ms and, on exit, writes to <dir>/<entry>-<pid>.json: the sample at
 * the highest RSS with V8's spaces and the kernel's RssAnon/RssFile split (live heap vs heap slack vs memory
 * outside the V8 heap), the highest of each figure, a timeline every 200 ms, and GC counts and pause times
 * per kind. Plain .mjs so that it loads into the bundles without tsx.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const dir = process.env.BENCH_MEMORY_SAMPLES;
const mb = (n) => Math.round((n / 2 ** 20) * 10) / 10;
let atPeak;
const highest = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 };
let samples = 0;
/** Every 10th sample, as [ms since start, rss, heapTotal, heapUsed, external] in MB. */
const timeline = [];
const started = Date.now();

function sample() {
  const m = process.memoryUsage();
  samples++;
  if (samples % 10 === 0)
    timeline.push([Date.now() - started, mb(m.rss), mb(m.heapTotal), mb(m.heapUsed), mb(m.external)]);
  for (const k of Object.keys(highest)) highest[k] = Math.max(highest[k], m[k]);
  if (!atPeak || m.rss > atPeak.rss) {
    const spaces = Object.fromEntries(
      v8
        .getHeapSpaceStatistics()
        .map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size) }]),
    );
    const status = readFileSync('/proc/self/status', 'utf8');
    const kernel = Object.fromEntries(
      ['RssAnon', 'RssFile', 'RssShmem', 'Threads'].map((k) => [
        k,
        Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1]),
      ]),
    );
    atPeak = { ...m, atMs: Date.now() - started, spaces, kernel };
  }
}
/** Count and total pause (ms) per GC kind, and the moment (ms since start) of each mark-compact. */
const gc = {
  minor: { count: 0, ms: 0 },
  major: { count: 0, ms: 0 },
  other: { count: 0, ms: 0 },
  majorAtMs: [],
};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = e.detail?.kind;
    const k =
      kind === constants.NODE_PERFORMANCE_GC_MINOR
        ? 'minor'
        : kind === constants.NODE_PERFORMANCE_GC_MAJOR
          ? 'major'
          : 'other';
    gc[k].count++;
    gc[k].ms = Math.round((gc[k].ms + e.duration) * 10) / 10;
    if (k === 'major') gc.majorAtMs.push(Math.round(e.startTime));
  }
}).observe({ entryTypes: ['gc'] });

const timer = setInterval(sample, 20);
timer.unref();

process.on('exit', () => {
  if (!dir || !atPeak) return;
  const { spaces, atMs, kernel, ...m } = atPeak;
  const out = {
    argv: process.argv.slice(1),
    execArgv: process.execArgv,
    samples,
    atPeakMb: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, mb(v)])),
    atPeakMs: atMs,
    kernelAtPeak: {
      RssAnonMb: mb(kernel.RssAnon * 1024),
      RssFileMb: mb(kernel.RssFile * 1024),
      RssShmemMb: mb(kernel.RssShmem * 1024),
      threads: kernel.Threads,
    },
    spacesAtPeakMb: spaces,
    highestMb: Object.fromEntries(Object.entries(highest).map(([k, v]) => [k, mb(v)])),
    gc,
    timeline,
    heapStatisticsAtExit: Object.fromEntries(
      Object.entries(v8.getHeapStatistics()).map(([k, v]) => [k, mb(v)]),
    ),
  };
  const name = (process.argv[1] ?? 'node').split('/').slice(-3).join('_');
  writeFileSync(join(dir, `${name}-${process.pid}.json`), `${JSON.stringify(out, null, 2)}\n`);
});
