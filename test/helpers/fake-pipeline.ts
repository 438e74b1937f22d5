/** A pipeline composed in code from the library's stages, with a scripted extractor. */
import { definePipeline } from '../../lib/runtime/pipeline.js';
import { pipe } from '../../lib/runtime/stage.js';
import { mergeSpecs } from '../../lib/runtime/options.js';
import { chunk, chunkOptionSpecs } from '../../stages/chunk.js';
import { extract, extractOptionSpecs } from '../../stages/extract.js';
import { mergeChunks } from '../../stages/merge-chunks.js';
import { parse, parseOptionSpecs } from '../../stages/parse.js';
import { read, readOptionSpecs, type InputSpec } from '../../stages/read.js';
import { retryOptionSpecs } from '../../stages/retry-split.js';
import { jsonlSink } from '../../stages/sink.js';
import { tokenPack, tokenPackOptionSpecs } from '../../stages/token-pack.js';
import type { Extractor } from '../../lib/runtime/extractor.js';

export function fakePipeline(extractor: Extractor) {
  return definePipeline<any>({
    name: 'fake',
    description: 'test pipeline',
    options: mergeSpecs(readOptionSpecs, parseOptionSpecs, chunkOptionSpecs, tokenPackOptionSpecs, extractOptionSpecs, retryOptionSpecs),
    build: (o, inputs) => ({
      flow: pipe(
        read(inputs as InputSpec[], o),
        parse(o),
        chunk(o),
        tokenPack(o),
        extract({ extractor, retry: o, concurrency: o.concurrency, unordered: o.unordered }),
        mergeChunks({ unordered: o.unordered }),
      ),
    }),
    sink: jsonlSink,
  });
}

/** Mixed input: good documents with bad records of every kind in between. */
export function messyLines(good: number): { lines: string[]; goodIds: string[]; badCount: number } {
  const lines: string[] = [];
  const goodIds: string[] = [];
  const bad = ['{not json', '{"id":"x","text":"a"} trailing', '[1,2]', '"str"', '{"id":"nt"}', '{"id":"e","text":""}', '{"id":"n","text":5}', '{"id":true,"text":"x"}'];
  let badCount = 0;
  for (let i = 0; i < good; i++) {
    lines.push(JSON.stringify({ id: `g${i}`, text: `Document ${i} says Alice met Bob in Paris.` }));
    goodIds.push(`g${i}`);
    if (i % 3 === 0) {
      lines.push(bad[i % bad.length]!);
      badCount++;
    }
    if (i % 7 === 0) lines.push('   ');
  }
  return { lines, goodIds, badCount };
}
