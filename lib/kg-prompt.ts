/**
 * The knowledge-graph extraction prompt. Its size is part of every request, so the packer's budget
 * counts it, and a dry run prices requests with it.
 */
import type { TokenCounter } from './tokens.js';

export const DEFAULT_ENTITY_TYPES = ['person', 'organization', 'place', 'event', 'product'] as const;
export const DEFAULT_RELATION_TYPES = ['works_for', 'leads', 'member_of', 'located_in', 'part_of', 'founded', 'owns', 'partner_of', 'related_to'] as const;

export function systemPrompt(entityTypes: readonly string[] = DEFAULT_ENTITY_TYPES, relationTypes: readonly string[] = DEFAULT_RELATION_TYPES): string {
  return [
    'You extract a knowledge graph from documents.',
    `Entity types: ${entityTypes.join(', ')}.`,
    `Relation types: ${relationTypes.join(', ')}.`,
    'For every document, list the entities it names (name as written in full, type, number of mentions) and the relations the document states between them.',
    'Answer only about the documents given, keyed by their id exactly as given. Do not invent ids. Use only the listed types.',
  ].join('\n');
}

/** How one document (or chunk) is delimited in the user message. */
export function documentBlock(id: string, text: string): string {
  return `<document id=${JSON.stringify(id)}>\n${text}\n</document>\n`;
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
