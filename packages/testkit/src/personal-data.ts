/** A field of a value whose name or text contains one of the needles (see findPersonalData). */
export interface PersonalDataHit {
  path: string;
  needle: string;
}

/**
 * Walks every field of `value` (objects, arrays, and JSON held in strings) and returns each place where a
 * key or a text contains a needle, compared case-insensitively: the names, addresses, organisations and
 * registration ids a test used, to show that what leaves for other systems carries none of them. Numbers
 * and booleans are compared as text too, so an id that happens to be numeric is not missed.
 */
export function findPersonalData(value: unknown, needles: readonly string[], path = '$'): PersonalDataHit[] {
  const wanted = needles.filter((n) => n.length > 0).map((n) => n.toLowerCase());
  const hits: PersonalDataHit[] = [];
  const visit = (v: unknown, at: string) => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) visit(item, `${at}[${i}]`);
      return;
    }
    if (typeof v === 'object') {
      for (const [key, item] of Object.entries(v)) {
        for (const needle of wanted)
          if (key.toLowerCase().includes(needle)) hits.push({ path: `${at}.${key}`, needle });
        visit(item, `${at}.${key}`);
      }
      return;
    }
    const text = String(v);
    const lower = text.toLowerCase();
    for (const needle of wanted) if (lower.includes(needle)) hits.push({ path: at, needle });
    if (typeof v === 'string' && /^\s*[[{]/.test(text)) {
      try {
        visit(JSON.parse(text), `${at}(json)`);
      } catch {
        // not JSON: its text was checked above
      }
    }
  };
  visit(value, path);
  return hits;
}

/** How many leaf fields `value` has (objects and arrays walked), to show a walk did cover something. */
export function countFields(value: unknown): number {
  if (value === null || typeof value !== 'object') return 1;
  const items = Array.isArray(value) ? value : Object.values(value);
  return items.reduce<number>((n, item) => n + countFields(item), 0);
}
