/**
 * Coordinated lists share a type: in "Turkey, Slovakia and Croatia" or
 * "Morrisons and Tesco", a member typed only by a default guess (strength
 * <= 1, or untyped) takes the type of the list's well-evidenced members
 * (strength >= 2). Mentions must be sorted by position.
 */
import type { Mention, MentionType } from './classify.js';
import type { Token } from './wink-tokens.js';

const LIST_GLUE = new Set([',', 'and', 'or', '&']);
const LIST_END = new Set(['and', 'or', '&']);

/** Only "," / "and" / "or" (at most two tokens) between two mentions of one sentence. */
function coordinated(tokens: Token[], a: Mention, b: Mention): boolean {
  if (a.sentence !== b.sentence) return false;
  const gap = b.start - a.end - 1;
  if (gap < 1 || gap > 2) return false;
  for (let i = a.end + 1; i < b.start; i++) if (!LIST_GLUE.has((tokens[i] as Token).lower)) return false;
  return true;
}

export function harmoniseLists(tokens: Token[], mentions: Mention[]): void {
  let start = 0;
  while (start < mentions.length) {
    let end = start;
    while (end + 1 < mentions.length && coordinated(tokens, mentions[end] as Mention, mentions[end + 1] as Mention)) end++;
    // A real list has "and"/"or" before its last member; commas alone are appositions
    // ("The mayor of Lagos, Babajide Sanwo-Olu, ...").
    if (end > start && LIST_END.has((tokens[(mentions[end] as Mention).start - 1] as Token).lower)) {
      const votes: Record<MentionType, number> = { person: 0, organization: 0, place: 0 };
      for (let m = start; m <= end; m++) {
        const mention = mentions[m] as Mention;
        if (mention.type !== null && mention.strength >= 2) votes[mention.type] += mention.strength;
      }
      let best: MentionType | null = null;
      for (const t of ['person', 'organization', 'place'] as const) if (votes[t] > 0 && (best === null || votes[t] > votes[best])) best = t;
      if (best !== null) {
        for (let m = start; m <= end; m++) {
          const mention = mentions[m] as Mention;
          if (mention.strength <= 1 && mention.type !== best) {
            mention.type = best;
            mention.strength = 1;
          }
        }
      }
    }
    start = end + 1;
  }
}
