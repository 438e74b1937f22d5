/**
 * The output model (lib/llm/output-model.ts): the fixed prior packs use, and the learned ratio
 * that sizes max_tokens, warms up, follows the answers it sees, asks more after a cut and never
 * passes the cap.
 */
import t from 'tap';
import { answerPrior, OutputModel, packAnswerPrior, ANSWER_FRAME_TOKENS } from '../lib/llm/output-model.js';

const prior = { answerBaseTokens: 80, answerTokensRatio: 1.6 };

t.test('the prior is a line in the chunk tokens, plus one frame per request', async (t) => {
  t.equal(answerPrior(100, prior), 240);
  t.equal(packAnswerPrior([100, 50], prior), ANSWER_FRAME_TOKENS + 240 + 160);
  t.equal(packAnswerPrior([], prior), ANSWER_FRAME_TOKENS);
});

t.test('before enough answers, a request asks 1.5x its prior; after, the learned ratio at the 90th percentile plus a margin', async (t) => {
  const m = new OutputModel(4096);
  t.equal(m.maxTokens(1000), 1500, 'warm-up');
  // Answers half the prior's size: the model learns it and asks for about half.
  for (let i = 0; i < 20; i++) m.observe(1000, 500);
  t.equal(m.observed, 20);
  t.equal(m.ratio(0.5), 0.5);
  t.equal(m.expected(1000), 500);
  t.equal(m.maxTokens(1000), Math.ceil(1000 * 0.5 * 1.08));
  // A spread: the 90th percentile of 1.0..2.0 is 1.9.
  const spread = new OutputModel(100_000);
  for (let i = 0; i <= 10; i++) spread.observe(100, 100 + 10 * i);
  t.equal(spread.ratio(0.9), 1.9);
  t.equal(spread.maxTokens(1000), Math.ceil(1000 * 1.9 * 1.08));
});

t.test('warm-up asks at least the largest ratio seen so far', async (t) => {
  const m = new OutputModel(100_000);
  m.observe(100, 300);
  t.equal(m.maxTokens(1000), 3000);
});

t.test('max_tokens stays between a floor and the cap', async (t) => {
  const m = new OutputModel(2000);
  t.equal(m.maxTokens(10_000), 2000, 'never over the cap');
  t.equal(m.maxTokens(1), 64, 'never under the floor');
});

t.test('a cut answer is asked again with 1.5x as many tokens, up to the cap; at the cap there is no more to ask', async (t) => {
  const m = new OutputModel(1000);
  t.equal(m.escalated(400), 600);
  t.equal(m.escalated(800), 1000);
  t.equal(m.escalated(1000), undefined);
});

t.test('the window follows a change: old answers drop out', async (t) => {
  const m = new OutputModel(1_000_000);
  for (let i = 0; i < 256; i++) m.observe(100, 100);
  t.equal(m.ratio(0.9), 1);
  for (let i = 0; i < 256; i++) m.observe(100, 300);
  t.equal(m.ratio(0.5), 3, 'only the newer answers are left');
  t.equal(m.observed, 256);
});

t.test('nonsense observations are ignored', async (t) => {
  const m = new OutputModel(1000);
  m.observe(0, 100);
  m.observe(100, Number.NaN);
  m.observe(-5, 10);
  t.equal(m.observed, 0);
});
