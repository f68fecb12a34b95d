/**
 * CSV for Excel as Dutch offices open it: `;` as separator (Excel's list separator in nl-NL), CRLF line ends,
 * UTF-8 with a byte order mark so accents survive a double-click.
 */

export type CsvValue = string | number | boolean | null | undefined;

export const CSV_SEPARATOR = ';';
const BOM = '\uFEFF';

/**
 * Characters a spreadsheet may read as the start of a formula, including their full-width forms (some
 * locales fold those to ASCII). Checked after any leading spaces and quotes too: a program that trims the
 * field, or reads it with another separator or quote character, would otherwise see the formula.
 */
const FORMULA_START = /^[\s"'\u3000]*[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * Every field is quoted, so no separator a locale chooses (`;`, `,`, tab) splits it, and inner quotes are
 * doubled. Text that could run as a formula gets a leading apostrophe: an attendee list is user input and must
 * not execute when opened.
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '""';
  let text = typeof value === 'boolean' ? (value ? 'ja' : 'nee') : String(value);
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replaceAll('"', '""')}"`;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(CSV_SEPARATOR));
  return `${BOM}${lines.join('\r\n')}\r\n`;
}
