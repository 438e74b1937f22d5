/** Worker-thread entry of the offline extractor (also called directly with --workers 0). */
import { extractEntities } from '../ner/index.js';
import type { ChunkExtraction } from '../runtime/records.js';

export function extractTexts(texts: string[]): ChunkExtraction[] {
  return texts.map((text) => {
    const found = extractEntities(text);
    return {
      entities: found.entities.map((e) => ({ name: e.name, type: e.type, mentions: e.mentions })),
      relations: found.relations.map((r) => ({ source: r.source, target: r.target, type: r.type, count: r.sentences })),
    };
  });
}

export default extractTexts;
