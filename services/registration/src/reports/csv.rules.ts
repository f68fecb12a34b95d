/**
 * CSV for Excel as Dutch offices open it: `;` as separator (Excel's list separator in nl-NL), CRLF line ends,
 * UTF-8 with a byte order mark so accents survive a double-click.
 */

export type CsvValue = string | number | boolean | null | undefined;

export const CSV_SEPARATOR = ';';
const BOM = '\uFEFF';

/**
 * Quotes when the value holds the separator, a quote, a line break or edge spaces, doubling inner quotes.
 * Text that Excel would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe: an attendee
 * list is user input and must not execute when opened.
 */
export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'ja' : 'nee';
  if (typeof value === 'number') return String(value);
  let text = value;
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  if (/[;"\r\n]/.test(text) || text !== text.trim()) return `"${text.replaceAll('"', '""')}"`;
  return text;
}

export function toCsv(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(CSV_SEPARATOR));
  return `${BOM}${lines.join('\r\n')}\r\n`;
}
