/** The key entity names are compared by within a document: NFKC, whitespace collapsed, lower case. */
export function normaliseName(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim().toLowerCase();
}
