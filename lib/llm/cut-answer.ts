/**
 * What is whole in an answer cut off at max_tokens: the knowledge-graph answer is one JSON object,
 * `{"documents":[{...},{...},...]}`, written document by document, so a cut answer holds zero or
 * more whole documents and then a broken one. `wholeDocuments` gives back the answer made of the
 * whole ones only (valid JSON, still to be validated as any answer), so the rest alone is asked again.
 */

/**
 * The cut answer closed after its last whole document, or undefined when it has none (or is not an
 * object whose first array holds the documents, as the schema writes it).
 */
export function wholeDocuments(content: string): string | undefined {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let end = -1;
  for (let i = 0; i < content.length; i++) {
    const c = content[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      // A document object closes back into the documents array (depth 2: the answer, the array).
      if (c === '}' && depth === 2) end = i + 1;
      // The documents array closed: every document is whole, only the answer's last brace is missing.
      if (c === ']' && depth === 1) return parsed(`${content.slice(0, i + 1)}}`);
      if (depth < 1) return undefined;
    }
  }
  return end < 0 ? undefined : parsed(`${content.slice(0, end)}]}`);
}

function parsed(closed: string): string | undefined {
  try {
    const value = JSON.parse(closed) as { documents?: unknown };
    return Array.isArray(value?.documents) && value.documents.length > 0 ? closed : undefined;
  } catch {
    return undefined;
  }
}
