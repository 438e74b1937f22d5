/**
 * What OptionsOf promises, checked at run time: resolving a spec list gives every option that has
 * a default under its camelCase key, with a value of the spec's type, and nothing else; the
 * typed spec helpers (mergeSpecs, overriding, pickSpecs) keep the specs as they were.
 */
import t, { type Test } from 'tap';
import { ErrorCode } from '../../lib/runtime/errors.js';
import { defineOptions, keyOf, mergeSpecs, overriding, pickSpecs, resolveOptions, type OptionSpec } from '../../lib/runtime/options.js';
import { cliOptionSpecs } from '../../lib/cli/run-cli.js';
import { kgOptionSpecs, type KgOptions } from '../../pipelines/kg.js';
import { embedOptionSpecs, type EmbedOptions } from '../../pipelines/embed.js';
import { tokenPackOptionSpecs } from '../../stages/token-pack.js';
import { chunkOptionSpecs } from '../../stages/chunk.js';

const runtimeType = { string: 'string', boolean: 'boolean', integer: 'number', number: 'number' } as const;

function checkResolved(t: Test, specs: readonly OptionSpec[], resolved: Record<string, unknown>): void {
  const withDefault = specs.filter((s) => s.default !== undefined).map((s) => keyOf(s.name));
  t.same(Object.keys(resolved).sort(), withDefault.sort(), 'every option with a default, and only those, is set');
  for (const s of specs) {
    const v = resolved[keyOf(s.name)];
    if (v === undefined) continue;
    t.equal(typeof v, runtimeType[s.type], `--${s.name} resolves to a ${runtimeType[s.type]}, as its type says`);
    if (s.choices) t.ok(s.choices.includes(v as string), `--${s.name}'s default is one of its choices`);
  }
}

t.test("a resolved object of kg's specs has every spec's key, typed as its spec says", async (t) => {
  const o: KgOptions = resolveOptions(kgOptionSpecs);
  checkResolved(t, kgOptionSpecs, o);
  t.equal(o.maxLineBytes, 16 * 1024 * 1024);
  t.equal(o.extractor, 'auto');
  t.equal(o.workers, undefined, 'an option without a default stays unset');
});

t.test("a resolved object of embed's specs has every spec's key, with embed's own defaults", async (t) => {
  const o: EmbedOptions = resolveOptions(embedOptionSpecs);
  checkResolved(t, embedOptionSpecs, o);
  t.equal(o.chunkTokens, 8000);
  t.equal(o.tokenBudget, 100_000);
  t.equal(o.concurrency, 32);
  t.equal(o.encodingFormat, 'base64');
});

t.test("the CLI's own options resolve the same way", async (t) => {
  checkResolved(t, cliOptionSpecs, resolveOptions(cliOptionSpecs));
});

t.test('given values are coerced and checked by their spec; unknown keys are refused', async (t) => {
  const specs = defineOptions([
    { name: 'max-docs', type: 'integer', default: 2, min: 1, description: 'd' },
    { name: 'format', type: 'string', choices: ['a', 'b'], description: 'f' },
  ]);
  const o = resolveOptions(specs, { maxDocs: '7', format: 'b' });
  t.same(o, { maxDocs: 7, format: 'b' });
  t.throws(() => resolveOptions(specs, { format: 'c' }), { code: ErrorCode.USAGE, message: /--format must be one of a, b/ });
  t.throws(() => resolveOptions(specs, { maxDoc: 3 }), { code: ErrorCode.USAGE, message: /unknown option "maxDoc"/ });
});

t.test('overriding copies the named specs with their changes and shares the others', async (t) => {
  const changed = overriding(chunkOptionSpecs, { 'chunk-overlap': { default: 0 } });
  t.equal(changed.length, chunkOptionSpecs.length);
  t.equal(changed[0], chunkOptionSpecs[0], 'an unchanged spec is the same object');
  t.not(changed[1], chunkOptionSpecs[1]);
  t.same(changed[1], { ...chunkOptionSpecs[1], default: 0 });
  t.equal(chunkOptionSpecs[1].default, 100, 'the stage spec itself is left alone');
});

t.test('pickSpecs keeps the named specs; mergeSpecs keeps the first spec of a name', async (t) => {
  t.same(
    pickSpecs(tokenPackOptionSpecs, 'token-budget').map((s) => s.name),
    ['token-budget'],
  );
  const merged = mergeSpecs(overriding(chunkOptionSpecs, { model: { default: 'm' } }), chunkOptionSpecs);
  t.same(
    merged.map((s) => s.name),
    ['chunk-tokens', 'chunk-overlap', 'model'],
  );
  t.equal(merged.find((s) => s.name === 'model')?.default, 'm');
});
