import type { DealField, DealKind, DealPhase } from '@citydeals/contracts';

export const PROGRAMME_TIME_ZONE = 'Europe/Amsterdam';

/** Today's date where the programme works; a term "has passed" by the Dutch calendar, not by UTC. */
export function todayIn(now: Date, timeZone = PROGRAMME_TIME_ZONE): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(now);
}

/**
 * A term has passed without completion or extension: extensions move `termEndsOn` forward, so a deal is
 * overdue exactly when it is still active and its (possibly extended) term ended before today.
 */
export function isOverdue(deal: { phase: DealPhase; termEndsOn: string | null }, today: string): boolean {
  if (deal.phase === 'completed' || deal.phase === 'discontinued') return false;
  return deal.termEndsOn !== null && deal.termEndsOn < today;
}

/** A readable, URL-safe slug from a Dutch deal name ("Energieke Wijken, Duurzaam en Sociaal"). */
export function slugFromName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 120)
    .replace(/-+$/g, '');
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /deals/{idOrSlug}` takes either; a slug is never shaped like a UUID (creation refuses that). */
export function looksLikeId(value: string): boolean {
  return uuidPattern.test(value);
}

export interface DealDetails {
  name: string;
  slug: string;
  kind: DealKind;
  summary: string | null;
  themes: string[];
  signedOn: string | null;
  termEndsOn: string | null;
  tranche: number | null;
}

export type DealEdit = Partial<DealDetails>;

export interface FieldError {
  field: string;
  message: string;
}

export type EditPlan =
  | { ok: true; next: DealDetails; changedFields: DealField[] }
  | { ok: false; errors: FieldError[] };

const editableFields = [
  'name',
  'slug',
  'kind',
  'summary',
  'themes',
  'signedOn',
  'termEndsOn',
  'tranche',
] as const;

/**
 * Fields an edit may restate but not change: each change has its own dated record and event, which an edit
 * would bypass. The message names where the change goes.
 */
const changedOnlyBy = {
  termEndsOn:
    'changes only by an extension: POST /deals/{id}/extensions (records the reason and publishes deal.term_extended)',
  tranche:
    'changes only by starting a tranche: POST /deals/{id}/tranches (records its start date and publishes deal.tranche_started)',
} as const;

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** The cross-field rules of a deal's details, named by the request field that breaks them. */
export function checkDetails(details: DealDetails, fieldPrefix = 'body'): FieldError[] {
  const errors: FieldError[] = [];
  // ISO dates compare correctly as strings.
  if (details.signedOn !== null && details.termEndsOn !== null && details.termEndsOn <= details.signedOn) {
    errors.push({ field: `${fieldPrefix}.termEndsOn`, message: 'must be after signedOn' });
  }
  if (looksLikeId(details.slug)) {
    errors.push({ field: `${fieldPrefix}.slug`, message: 'must not look like a deal id (a UUID)' });
  }
  return errors;
}

/**
 * Applies an edit to a deal's details: which fields really change (an edit that changes nothing is not a
 * change and gets no version), and whether the result still holds together.
 */
export function planEdit(current: DealDetails, edit: DealEdit): EditPlan {
  const next: DealDetails = { ...current };
  const changedFields: DealField[] = [];
  const refused: FieldError[] = [];
  for (const field of editableFields) {
    if (copyIfChanged(current, edit, next, field)) {
      const only = changedOnlyBy[field as keyof typeof changedOnlyBy];
      if (only) refused.push({ field: `body.${field}`, message: only });
      changedFields.push(field);
    }
  }
  if (refused.length) return { ok: false, errors: refused };
  const errors = checkDetails(next);
  return errors.length ? { ok: false, errors } : { ok: true, next, changedFields };
}

/** Sets `field` of `next` from the edit when the edit changes it; true when it did. */
function copyIfChanged<F extends keyof DealDetails>(
  current: DealDetails,
  edit: DealEdit,
  next: DealDetails,
  field: F,
): boolean {
  const value: DealDetails[F] | undefined = edit[field];
  if (value === undefined || sameValue(current[field], value)) return false;
  next[field] = value;
  return true;
}

export type TermDecision = { ok: true } | { ok: false; status: 409 | 400; field?: string; message: string };

const isActive = (phase: DealPhase) => phase !== 'completed' && phase !== 'discontinued';

/** An extension must move the end of an active deal's term later. */
export function decideExtension(
  deal: { phase: DealPhase; termEndsOn: string | null; signedOn: string | null },
  termEndsOn: string,
): TermDecision {
  if (!isActive(deal.phase))
    return { ok: false, status: 409, message: `a ${deal.phase} deal cannot be extended` };
  if (deal.termEndsOn !== null && termEndsOn <= deal.termEndsOn) {
    return {
      ok: false,
      status: 400,
      field: 'body.termEndsOn',
      message: `must be after the current end of term ${deal.termEndsOn}`,
    };
  }
  if (deal.signedOn !== null && termEndsOn <= deal.signedOn) {
    return {
      ok: false,
      status: 400,
      field: 'body.termEndsOn',
      message: `must be after signedOn ${deal.signedOn}`,
    };
  }
  return { ok: true };
}

/** Tranches follow one another (implement → innovate → secure): a new one must come after the current. */
export function decideTranche(
  deal: { phase: DealPhase; tranche: number | null },
  tranche: number,
): TermDecision {
  if (!isActive(deal.phase)) {
    return { ok: false, status: 409, message: `a ${deal.phase} deal does not start tranches` };
  }
  if (deal.tranche !== null && tranche <= deal.tranche) {
    return {
      ok: false,
      status: 400,
      field: 'body.tranche',
      message: `must be after the current tranche ${deal.tranche}`,
    };
  }
  return { ok: true };
}

export type IfMatch =
  | { kind: 'none' }
  | { kind: 'any' }
  | { kind: 'versions'; versions: number[] }
  | { kind: 'invalid' };

/**
 * Reads `If-Match`. The deal's ETag is its version in quotes; a bare number is accepted too, because
 * scripts send it that way. A list of ETags matches when any of them does.
 */
export function parseIfMatch(header: string | undefined): IfMatch {
  if (header === undefined) return { kind: 'none' };
  const trimmed = header.trim();
  if (trimmed === '*') return { kind: 'any' };
  const versions: number[] = [];
  for (const part of trimmed.split(',')) {
    const match = /^(?:W\/)?"?([1-9][0-9]{0,9})"?$/.exec(part.trim());
    if (!match) return { kind: 'invalid' };
    versions.push(Number(match[1]));
  }
  return { kind: 'versions', versions };
}

/** Whether a write may go ahead on a deal at `version`; `*` only asks that the deal exists. */
export function ifMatchHolds(ifMatch: IfMatch, version: number): boolean {
  if (ifMatch.kind === 'versions') return ifMatch.versions.includes(version);
  return ifMatch.kind !== 'invalid';
}

export const etagOf = (version: number): string => `"${version}"`;
