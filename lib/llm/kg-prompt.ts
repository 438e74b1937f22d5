/**
 * The knowledge-graph extraction prompt. Its size is part of every request, so the packer's budget
 * counts it, and a dry run prices requests with it.
 */
import type { TokenCounter } from './tokens.js';

export const DEFAULT_ENTITY_TYPES = ['person', 'organization', 'place', 'event', 'product'] as const;
/** Includes the offline extractor's co-occurrence types, so both paths share one vocabulary. */
export const DEFAULT_RELATION_TYPES = ['works_for', 'leads', 'member_of', 'affiliated_with', 'located_in', 'part_of', 'founded', 'owns', 'partner_of', 'associated_with', 'related_to'] as const;

export function systemPrompt(entityTypes: readonly string[] = DEFAULT_ENTITY_TYPES, relationTypes: readonly string[] = DEFAULT_RELATION_TYPES): string {
  return [
    'You extract a knowledge graph from documents.',
    `Entity types: ${entityTypes.join(', ')}.`,
    `Relation types: ${relationTypes.join(', ')}.`,
    'For every document, list the entities it names (name as written in full, type, number of mentions) and the relations the document states between them.',
    'Answer only about the documents given, keyed by their id exactly as given. Do not invent ids. Use only the listed types.',
  ].join('\n');
}

const CLOSE_TAG = '</document>';

/** How one document (or chunk) is delimited in the user message. A closing tag inside the text is defused. */
export function documentBlock(id: string, text: string): string {
  return `<document id=${JSON.stringify(id)}>\n${text.replaceAll(CLOSE_TAG, '<\\/document>')}\n${CLOSE_TAG}\n`;
}

const BLOCK = /<document id=("(?:[^"\\]|\\.)*")>\n([\s\S]*?)\n<\/document>\n/g;

/** The inverse of documentBlock over a whole user message (used by the simulator). */
export function parseDocumentBlocks(message: string): { id: string; text: string }[] {
  const out: { id: string; text: string }[] = [];
  for (const m of message.matchAll(BLOCK)) out.push({ id: JSON.parse(m[1]!) as string, text: m[2]! });
  return out;
}

/** Chat framing per message and for the reply, as OpenAI counts it. */
const TOKENS_PER_MESSAGE = 4;
const REPLY_PRIMING = 3;
/** Allowance for a document id inside its delimiter. */
const ID_ALLOWANCE = 8;

export function promptOverhead(counter: TokenCounter, entityTypes?: readonly string[], relationTypes?: readonly string[]): { templateTokens: number; perChunkTokens: number } {
  return {
    templateTokens: counter.count(systemPrompt(entityTypes, relationTypes)) + 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING,
    perChunkTokens: counter.count(documentBlock('', '')) + ID_ALLOWANCE,
  };
}
