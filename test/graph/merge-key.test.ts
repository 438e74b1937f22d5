import t, { type Test } from 'tap';
import { compareCodepoints, edgeId, isOrganisationType, mergeKey, nodeId, normaliseType, surfaceForm } from '../../lib/graph/merge-key.js';

const same = (t: Test, type: string, names: string[]) => {
  const keys = names.map((n) => mergeKey(n, type));
  t.same(new Set(keys).size, 1, `${type}: ${names.map((n) => JSON.stringify(n)).join(' = ')} (keys: ${[...new Set(keys)].map((k) => JSON.stringify(k)).join(', ')})`);
};
const apart = (t: Test, a: [string, string], b: [string, string]) => {
  t.not(mergeKey(...a), mergeKey(...b), `${JSON.stringify(a)} stays apart from ${JSON.stringify(b)}`);
};

t.test("the issue's own example: Apple, Apple Inc. and APPLE INC are one organisation", async (t) => {
  same(t, 'organization', ['Apple', 'Apple Inc.', 'APPLE INC', 'Apple, Inc.', 'apple inc', 'Apple Incorporated', "Apple's", 'Apple Inc.\u2019s']);
  t.equal(mergeKey('Apple Inc.', 'organization'), 'apple');
});

t.test('Unicode NFKC: compatibility forms and composed/decomposed letters fold together', async (t) => {
  same(t, 'organization', ['Nestlé', 'Nestle\u0301', 'Ｎｅｓｔｌé']);
  same(t, 'person', ['ﬁona smith', 'fiona smith', 'Fiona\u00a0Smith']);
});

t.test('typographic quotes and dashes are unified', async (t) => {
  same(t, 'organization', ['Hydro-Québec', 'Hydro\u2013Québec', 'Hydro\u2014Québec', 'Hydro\u2212Québec', 'Hydro\u2011Québec']);
  same(t, 'person', ["O'Brien", 'O\u2019Brien', 'O\u2018Brien', 'O\u02bcBrien']);
  same(t, 'organization', ['"Reuters"', '\u201cReuters\u201d', '\u00abReuters\u00bb', 'Reuters']);
});

t.test('whitespace is collapsed and trimmed', async (t) => {
  same(t, 'person', ['Satya Nadella', '  Satya   Nadella ', 'Satya\tNadella', 'Satya\nNadella']);
});

t.test('wrapping quotes and brackets are dropped, including nested ones; inner brackets stay', async (t) => {
  same(t, 'organization', ['Reuters', '(Reuters)', '[Reuters]', '{Reuters}', '<Reuters>', '("Reuters")', "'Reuters'"]);
  apart(t, ['(a) and (b)', 'organization'], ['a) and (b', 'organization']);
  t.equal(mergeKey('Apple (UK)', 'organization'), 'apple (uk)', 'a bracket that does not wrap the name stays');
  t.equal(mergeKey('(UK) Apple', 'organization'), '(uk) apple');
});

t.test('trailing punctuation is dropped', async (t) => {
  same(t, 'organization', ['Yahoo', 'Yahoo!', 'Yahoo.', 'Yahoo,', 'Yahoo;', 'Yahoo:', 'Yahoo?', 'Yahoo!!!', 'Yahoo\u2026']);
});

t.test("possessive 's is removed, and a plural possessive's apostrophe", async (t) => {
  same(t, 'person', ['Angela Merkel', "Angela Merkel's", 'Angela Merkel\u2019s', "ANGELA MERKEL'S"]);
  same(t, 'organization', ['Reuters', "Reuters'"]);
  same(t, 'organization', ["McDonald's", "McDonald's Corporation", 'McDonald\u2019s Corp.']);
  t.equal(mergeKey('Mars', 'place'), 'mars', 'a name ending in s without an apostrophe keeps its s');
});

t.test('case is folded without the machine locale: ß, final sigma and dotted İ', async (t) => {
  same(t, 'place', ['Straße', 'STRASSE', 'strasse']);
  same(t, 'place', ['ΟΔΟΣ', 'οδος', 'Οδος']);
  same(t, 'place', ['İstanbul', 'Istanbul', 'ISTANBUL', 'istanbul']);
  t.equal(mergeKey('Istanbul', 'place'), 'istanbul');
});

t.test('dots are dropped: U.S.A. = USA', async (t) => {
  same(t, 'place', ['U.S.A.', 'USA', 'U.S.A', 'usa']);
  same(t, 'place', ['St. Louis', 'St Louis']);
  same(t, 'organization', ['I.B.M.', 'IBM', 'IBM Corp.']);
});

t.test('every corporate suffix, with optional comma and period, for organisations', async (t) => {
  const suffixes = ['Inc', 'Incorporated', 'Corp', 'Corporation', 'Co', 'Company', 'Ltd', 'Limited', 'LLC', 'PLC', 'GmbH', 'AG', 'S.A.', 'N.V.', 'B.V.', 'Pty', 'LLP'];
  for (const sfx of suffixes) {
    same(t, 'organization', ['Acme', `Acme ${sfx}`, `Acme, ${sfx}`, `Acme ${sfx}.`, `Acme, ${sfx}.`, `ACME ${sfx.toUpperCase()}`]);
  }
  same(t, 'organization', ['Acme', 'Acme Pty Ltd', 'Acme Co., Ltd.', 'Acme Holdings'.replace(' Holdings', '') + ' Ltd']);
  same(t, 'organization', ['Goldman Sachs', 'Goldman Sachs & Co.', 'Goldman Sachs and Company', 'Goldman Sachs & Co. LLC']);
  same(t, 'organization', ['Banco Santander', 'Banco Santander, S.A.', 'Banco Santander S. A.']);
});

t.test('organisation types are recognised however they are written', async (t) => {
  for (const type of ['organization', 'organisation', 'ORGANIZATION', 'Organisation', ' org ', 'company', 'Corporation']) {
    t.ok(isOrganisationType(type), type);
    t.equal(mergeKey('Acme Ltd', type), 'acme', `suffix removed for type ${JSON.stringify(type)}`);
  }
  for (const type of ['person', 'place', 'product', 'event', 'organizational_unit']) t.notOk(isOrganisationType(type), type);
});

t.test('names that must stay apart', async (t) => {
  t.equal(mergeKey('The Hague', 'place'), 'the hague', 'articles are kept');
  t.equal(mergeKey('The Who', 'organization'), 'the who');
  apart(t, ['The Hague', 'place'], ['Hague', 'place']);
  apart(t, ['The Who', 'organization'], ['Who', 'organization']);
  t.equal(mergeKey('Co', 'organization'), 'co', 'a name that is only a suffix is kept');
  t.equal(mergeKey('Limited', 'organization'), 'limited');
  t.equal(mergeKey('Kim Co', 'person'), 'kim co', '"Co" is stripped for organisations only');
  t.equal(mergeKey('Apple Inc.', 'person'), 'apple inc', 'suffixes stay on non-organisations');
  apart(t, ['Apple Inc.', 'product'], ['Apple', 'organization']);
  t.equal(mergeKey('Costco', 'organization'), 'costco', 'a suffix inside a word is not a suffix');
  t.equal(mergeKey('Blackrock Incubator', 'organization'), 'blackrock incubator');
  t.equal(mergeKey('Sagami', 'organization'), 'sagami', '"sa" at the end of a word is not S.A.');
  t.equal(mergeKey('Ag', 'organization'), 'ag');
  apart(t, ['Paris', 'place'], ['Paris Hilton', 'person']);
  apart(t, ['Nestlé', 'organization'], ['Nestle', 'organization']);
  apart(t, ['Okonjo-Iweala', 'person'], ['Okonjo Iweala', 'person']);
  apart(t, ['Toyota', 'organization'], ['Toyota Motor Corporation', 'organization']);
});

t.test('degenerate names keep a key instead of folding to nothing', async (t) => {
  t.equal(mergeKey('...', 'organization'), '...');
  t.equal(mergeKey('"', 'person'), '"');
  t.equal(mergeKey("'s", 'person'), 's', 'a stray quote goes; what remains is kept');
  t.equal(mergeKey('()', 'organization'), '()');
});

t.test('the key is a fixed point: keying a key gives it back', async (t) => {
  const names: [string, string][] = [
    ['Apple Inc.', 'organization'],
    ['U.S.A.', 'place'],
    ["Angela Merkel's", 'person'],
    ['"The Who"', 'organization'],
    ['Acme Pty Ltd', 'organization'],
    ['İstanbul', 'place'],
  ];
  for (const [n, type] of names) {
    const k = mergeKey(n, type);
    t.equal(mergeKey(k, type), k, `${n} -> ${k}`);
  }
});

t.test('surface forms keep case and punctuation; types are normalised', async (t) => {
  t.equal(surfaceForm('  Apple   Inc. '), 'Apple Inc.');
  t.equal(surfaceForm('Ｎｅｓｔｌé'), 'Nestlé');
  t.equal(normaliseType(' Organization '), 'organization');
  t.equal(normaliseType('works for'), 'works_for');
  t.equal(normaliseType('WORKS-FOR'), 'works_for');
  t.equal(normaliseType('works__for'), 'works_for');
});

t.test('ids: stable hashes of the key, 16 hex digits; edges by (source, target, type)', async (t) => {
  t.equal(nodeId('apple'), nodeId(mergeKey('APPLE INC', 'organization')));
  t.match(nodeId('apple'), /^[0-9a-f]{16}$/);
  t.not(nodeId('apple'), nodeId('apple inc'));
  t.not(edgeId('a', 'b', 'leads'), edgeId('b', 'a', 'leads'), 'direction matters');
  t.not(edgeId('a', 'b', 'leads'), edgeId('a', 'b', 'owns'));
  t.not(edgeId('a\u0000b', 'c', 't'), edgeId('a', 'b\u0000c', 't'), 'no ambiguity from joining');
  t.equal(nodeId('apple'), '82fa1bd7d8443f95', 'the same id in every run and on every machine');
});

t.test('codepoint order matches UTF-8 byte order (SQLite BINARY), unlike UTF-16 order', async (t) => {
  const words = ['b', 'a', 'ab', '\uffff', '\u{10000}', '\ue000', 'é', 'z', '', '\u{1f600}x', '\u{1f600}'];
  const byBytes = [...words].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  t.same([...words].sort(compareCodepoints), byBytes);
  t.ok('\u{10000}' < '\uffff', 'UTF-16 order differs for astral characters');
  t.ok(compareCodepoints('\u{10000}', '\uffff') > 0);
});
