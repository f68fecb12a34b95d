const dayIn = (instant: Date, timeZone: string) =>
  new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(
    instant,
  );

/**
 * Registrations so far per calendar day (in the meeting's zone), counted up: one point per day from the first
 * registration to the last, days without any included, so the line's slope is the pace.
 */
export function cumulativeByDay(
  registeredAt: readonly string[],
  timeZone: string,
): { day: string; total: number }[] {
  if (registeredAt.length === 0) return [];
  const perDay = new Map<string, number>();
  for (const at of registeredAt) {
    const day = dayIn(new Date(at), timeZone);
    perDay.set(day, (perDay.get(day) ?? 0) + 1);
  }
  const days = [...perDay.keys()].sort();
  const points: { day: string; total: number }[] = [];
  let total = 0;
  // Calendar days as UTC dates: adding 24 h to a date at UTC midnight never skips or repeats one.
  for (let d = new Date(`${days[0]}T00:00:00Z`); ; d = new Date(d.getTime() + 86_400_000)) {
    const day = d.toISOString().slice(0, 10);
    total += perDay.get(day) ?? 0;
    points.push({ day, total });
    if (day >= days[days.length - 1]!) break;
  }
  return points;
}
