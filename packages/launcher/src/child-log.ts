// The services log pino JSON; on a console a person reads `WARN message (error)` more easily.

const LEVELS: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

/** A pino JSON line as `LEVEL message (error)`; anything else unchanged. */
export function formatLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    const level = LEVELS[entry.level ?? 30] ?? String(entry.level);
    const error = entry.err?.message ? ` (${entry.err.message})` : '';
    return `${level} ${entry.msg ?? ''}${error}`;
  } catch {
    return line;
  }
}
