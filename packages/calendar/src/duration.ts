const unitMs = { W: 7 * 86_400_000, D: 86_400_000, H: 3_600_000, M: 60_000, S: 1000 } as const;

/**
 * Length of an ISO 8601 duration, as meetings give their reminder offsets (P7D, P1D, PT2H, P1W). Years and months have
 * no fixed length and are counted as 365 and 30 days: an offset is "roughly that long before".
 */
export function durationMs(iso: string): number {
  const match =
    /^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(
      iso,
    );
  if (!match || iso === 'P' || iso.endsWith('T')) throw new RangeError(`not an ISO 8601 duration: ${iso}`);
  const [, y, mo, w, d, h, mi, s] = match.map((v) => (v === undefined ? 0 : Number(v)));
  return (
    (y ?? 0) * 365 * unitMs.D +
    (mo ?? 0) * 30 * unitMs.D +
    (w ?? 0) * unitMs.W +
    (d ?? 0) * unitMs.D +
    (h ?? 0) * unitMs.H +
    (mi ?? 0) * unitMs.M +
    (s ?? 0) * unitMs.S
  );
}
