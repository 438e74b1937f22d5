/**
 * The output model (lib/llm/output-model.ts): the fixed prior packs and requests are sized by,
 * max_tokens as a function of the pack alone, asking again after a cut, and the hint a run gives
 * when its answers run away from the prior.
 */
import t from 'tap';
import { answerPrior, askAgain, askTokens, ASK_FACTOR, LONE_ASK_FACTOR, packAnswerPrior, priorHint, ANSWER_FRAME_TOKENS } from '../lib/llm/output-model.js';

const prior = { answerBaseTokens: 80, answerTokensRatio: 1.6 };

t.test('the prior is a line in the chunk tokens, plus one frame per request', async (t) => {
  t.equal(answerPrior(100, prior), 240);
  t.equal(packAnswerPrior([100, 50], prior), ANSWER_FRAME_TOKENS + 240 + 160);
  t.equal(packAnswerPrior([], prior), ANSWER_FRAME_TOKENS);
});

t.test('max_tokens is the prior x the ask factor, between a floor and the cap, the same every time', async (t) => {
  t.equal(askTokens(1000, 4096, 8), Math.ceil(1000 * ASK_FACTOR));
  t.equal(askTokens(1000, 4096, 8), askTokens(1000, 4096, 8));
  t.equal(askTokens(1000, 4096, 1), Math.ceil(1000 * LONE_ASK_FACTOR), 'a lone chunk, which has nothing to keep when cut, asks more');
  t.ok(LONE_ASK_FACTOR > ASK_FACTOR);
  t.equal(askTokens(10_000, 4096, 8), 4096, 'never over the cap');
  t.equal(askTokens(1, 4096, 1), 64, 'never under the floor');
});

t.test('a cut answer with nothing whole is asked again with 1.5x as many tokens, up to the cap; at the cap there is no more to ask', async (t) => {
  t.equal(askAgain(400, 1000), 600);
  t.equal(askAgain(800, 1000), 1000);
  t.equal(askAgain(1000, 1000), undefined);
});

t.test('the hint: only with enough answers, only when they run more than 20% from the prior, and it scales both options', async (t) => {
  t.equal(priorHint(10, 5000, 1000, prior), undefined, 'too few answers');
  t.equal(priorHint(50, 11_500, 10_000, prior), undefined, 'within 20%');
  t.equal(priorHint(50, 100, 0, prior), undefined, 'nothing expected');
  t.same(priorHint(50, 15_000, 10_000, prior), { ratio: 1.5, suggested: { answerBaseTokens: 120, answerTokensRatio: 2.4 } });
  const low = priorHint(50, 5_000, 10_000, prior)!;
  t.equal(low.ratio, 0.5);
  t.same(low.suggested, { answerBaseTokens: 40, answerTokensRatio: 0.8 });
});
