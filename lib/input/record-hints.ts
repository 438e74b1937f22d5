/**
 * Hints added to a dead letter's reason when the record is not what sluice reads but looks like
 * something common: a CSV or TSV line given as JSONL (each line would otherwise get a bare
 * "invalid JSON"), a record without the text field (say which fields it has). Bounded in length:
 * a reason is repeated per record in the dead-letter file and the summary.
 */

/** Longest list of a record's fields in a reason, in characters. */
const FIELDS_CHARS = 120;

/** Whether a line that is not JSON looks like separated fields, and which separator. */
function separatorOf(line: string): 'comma' | 'tab' | undefined {
  const s = line.trim();
  // Broken JSON (an object or array cut short) is not CSV, whatever its commas.
  if (s === '' || s.startsWith('{') || s.startsWith('[')) return undefined;
  if (s.includes('\t')) return 'tab';
  if (s.includes(',')) return 'comma';
  return undefined;
}

/** A first line whose fields are all names (no numbers, no spaces inside quotes): a CSV header. */
function headerFields(line: string, separator: 'comma' | 'tab'): string[] | undefined {
  const fields = line
    .trim()
    .split(separator === 'tab' ? '\t' : ',')
    .map((f) => f.trim().replace(/^"(.*)"$/, '$1'));
  return fields.length >= 2 && fields.every((f) => /^[A-Za-z_][\w .-]*$/.test(f)) ? fields : undefined;
}

/** Said after "invalid JSON: ..." when the line looks like CSV/TSV; empty otherwise. */
export function csvHint(line: string, lineNumber: number): string {
  const separator = separatorOf(line);
  if (!separator) return '';
  const kind = separator === 'tab' ? 'tab-separated fields (TSV)' : 'comma-separated fields (CSV)';
  const header = lineNumber === 1 ? headerFields(line, separator) : undefined;
  const what = header ? `a ${separator === 'tab' ? 'TSV' : 'CSV'} header (${boundedList(header)})` : kind;
  return `; the line looks like ${what}: sluice reads JSONL (one JSON object a line) or a JSON array, not ${separator === 'tab' ? 'TSV' : 'CSV'}; convert the file to JSONL first`;
}

/** `a, b, c` cut to FIELDS_CHARS with the count of the rest. */
export function boundedList(names: readonly string[]): string {
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const next = out === '' ? names[i]! : `${out}, ${names[i]!}`;
    if (next.length > FIELDS_CHARS && out !== '') return `${out}, ... (${names.length - i} more)`;
    out = next.length > FIELDS_CHARS ? `${next.slice(0, FIELDS_CHARS)}...` : next;
  }
  return out;
}

/** Said after `field "x" is missing`: the fields the record has, and the flag that picks another. */
export function missingFieldHint(obj: Record<string, unknown>): string {
  const names = Object.keys(obj);
  if (names.length === 0) return '; the record has no fields';
  return `; the record has fields: ${boundedList(names)}; give --text-field`;
}
