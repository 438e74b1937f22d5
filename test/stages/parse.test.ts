import t from 'tap';
import { recordParser } from '../../stages/parse.js';
import type { RawRecord } from '../../lib/runtime/records.js';

const parseOne = recordParser({ idField: 'id', textField: 'text' });
let seq = 0;
const raw = (text: string, line = 7): RawRecord => ({ kind: 'raw', seq: seq++, line, source: 'in.jsonl', text });

t.test('a good record becomes a document; other fields become meta', async (t) => {
  const d = parseOne(raw('{"id":"a1","text":"Hello","title":"T","tags":["x"]}'));
  t.match(d, { kind: 'doc', id: 'a1', text: 'Hello', meta: { title: 'T', tags: ['x'] }, line: 7, source: 'in.jsonl' });
  t.notOk('id' in (d as { meta: object }).meta);
});

t.test('numeric ids become strings; a missing id gets "<source>:<line>"', async (t) => {
  t.match(parseOne(raw('{"id":42,"text":"x"}')), { id: '42' });
  t.match(parseOne(raw('{"id":4.5,"text":"x"}')), { id: '4.5' });
  t.match(parseOne(raw('{"text":"x"}', 12)), { kind: 'doc', id: 'in.jsonl:12' });
  t.match(parseOne(raw('{"id":null,"text":"x"}', 13)), { kind: 'doc', id: 'in.jsonl:13' });
});

const bad: [string, string, string, RegExp][] = [
  ['invalid JSON', '{"id":1,"text":', 'INVALID_JSON', /invalid JSON/],
  ['trailing garbage', '{"id":1,"text":"a"} trailing', 'INVALID_JSON', /invalid JSON/],
  ['two objects on a line', '{"id":1,"text":"a"}{"id":2,"text":"b"}', 'INVALID_JSON', /invalid JSON/],
  ['an array', '[{"id":1,"text":"a"}]', 'NOT_AN_OBJECT', /an array/],
  ['a number', '42', 'NOT_AN_OBJECT', /a number/],
  ['a string', '"text"', 'NOT_AN_OBJECT', /a string/],
  ['null', 'null', 'NOT_AN_OBJECT', /null/],
  ['missing text', '{"id":"m"}', 'MISSING_TEXT', /"text" is missing/],
  ['empty text', '{"id":"e","text":""}', 'EMPTY_TEXT', /empty/],
  ['whitespace text', '{"id":"w","text":"  \\n\\t "}', 'EMPTY_TEXT', /empty/],
  ['numeric text', '{"id":"n","text":12}', 'TEXT_NOT_STRING', /a number, not a string/],
  ['object text', '{"id":"o","text":{"a":1}}', 'TEXT_NOT_STRING', /an object/],
  ['array text', '{"id":"o","text":["a"]}', 'TEXT_NOT_STRING', /an array/],
  ['empty id', '{"id":"","text":"x"}', 'INVALID_ID', /is empty/],
  ['boolean id', '{"id":true,"text":"x"}', 'INVALID_ID', /a boolean/],
  ['object id', '{"id":{"a":1},"text":"x"}', 'INVALID_ID', /an object/],
];

for (const [name, line, code, reason] of bad) {
  t.test(`dead-letters ${name} with its line and a reason`, async (t) => {
    const f = parseOne(raw(line, 3));
    t.match(f, { kind: 'failure', stage: 'parse', code, line: 3, source: 'in.jsonl', reason });
    t.ok((f as { excerpt: string }).excerpt.length > 0 && (f as { excerpt: string }).excerpt.length <= 201, 'has a bounded excerpt');
  });
}

t.test('a CSV or TSV line given as JSONL: the reason says it looks like CSV, and that CSV is not read', async (t) => {
  const notCsv = /not CSV; convert the file to JSONL first$/;
  t.match(parseOne(raw('id,title,text', 1)), { code: 'INVALID_JSON', reason: /^invalid JSON: .*; the line looks like a CSV header \(id, title, text\): sluice reads JSONL/ });
  t.match(parseOne(raw('id,title,text', 1)), { reason: notCsv });
  t.match(parseOne(raw('7,"A title","some text, with a comma"', 2)), { code: 'INVALID_JSON', reason: /; the line looks like comma-separated fields \(CSV\): .*not CSV/ });
  t.match(parseOne(raw('id\ttext', 1)), { reason: /the line looks like a TSV header \(id, text\): .*not TSV/ });
  t.match(parseOne(raw('7\tsome text', 4)), { reason: /the line looks like tab-separated fields \(TSV\)/ });
  // A data line on line 1 is not taken for a header; broken JSON is not taken for CSV.
  t.match(parseOne(raw('7,some text', 1)), { reason: /comma-separated fields/ });
  t.notMatch((parseOne(raw('{"id":1,"text":"a",', 1)) as { reason: string }).reason, /CSV|looks like/);
  t.notMatch((parseOne(raw('not json at all', 1)) as { reason: string }).reason, /CSV|looks like/);
});

t.test('a missing text field: the reason names the field looked for, the fields the record has, and --text-field', async (t) => {
  t.match(parseOne(raw('{"body":"x","title":"y"}')), { code: 'MISSING_TEXT', reason: 'field "text" is missing; the record has fields: body, title; give --text-field' });
  t.match(recordParser({ idField: 'id', textField: 'doc.body' })(raw('{"id":1,"doc":{"text":"x"}}')), { reason: 'field "doc.body" is missing; the record has fields: id, doc; give --text-field' });
  t.match(parseOne(raw('{}')), { reason: 'field "text" is missing; the record has no fields' });
  const many: Record<string, number> = {};
  for (let i = 0; i < 200; i++) many[`field_number_${i}`] = i;
  const reason = (parseOne(raw(JSON.stringify(many))) as { reason: string }).reason;
  t.ok(reason.length < 250, `bounded (${reason.length} characters)`);
  t.match(reason, /^field "text" is missing; the record has fields: field_number_0, field_number_1, .*, \.\.\. \(\d+ more\); give --text-field$/);
});

t.test('a failure after the id is known carries the id', async (t) => {
  t.match(parseOne(raw('{"id":"has-id"}')), { code: 'MISSING_TEXT', id: 'has-id' });
});

t.test('--id-field and --text-field, with dotted paths', async (t) => {
  const p = recordParser({ idField: 'doc.key', textField: 'body' });
  t.match(p(raw('{"doc":{"key":"k9"},"body":"hi","lang":"en"}')), { kind: 'doc', id: 'k9', text: 'hi', meta: { lang: 'en' } });
  t.match(p(raw('{"doc":"flat","body":"hi"}', 4)), { kind: 'doc', id: 'in.jsonl:4' });
});

t.test('a nested id or text field is cut out of its object; the rest of the record stays in meta', async (t) => {
  const p = recordParser({ idField: 'meta.docId', textField: 'text' });
  const line = '{"meta":{"docId":"d7","author":"Ada","tags":["a"]},"text":"hi","lang":"en"}';
  const d = p(raw(line));
  t.same(d, { kind: 'doc', seq: (d as { seq: number }).seq, line: 7, source: 'in.jsonl', id: 'd7', text: 'hi', meta: { meta: { author: 'Ada', tags: ['a'] }, lang: 'en' } });
  const body = recordParser({ idField: 'id', textField: 'body.text' });
  t.same((body(raw('{"id":"x","body":{"text":"hello","format":"md"}}')) as { meta: unknown }).meta, { body: { format: 'md' } }, "the text field's siblings are kept");
  t.same((body(raw('{"id":"x","body":{"text":"hello"}}')) as { meta: unknown }).meta, {}, 'an object that held only the selected field goes');
  const same = recordParser({ idField: 'doc.id', textField: 'doc.text' });
  t.same((same(raw('{"doc":{"id":"y","text":"hello","page":3}}')) as { meta: unknown }).meta, { doc: { page: 3 } }, 'both fields in one object');
  const flat = recordParser({ idField: 'doc.key', textField: 'body' });
  t.same((flat(raw('{"doc":"flat","body":"hi"}')) as { meta: unknown }).meta, { doc: 'flat' }, 'a field that is not an object on the path is kept whole');
});

t.test('deeply nested meta is passed through', async (t) => {
  let nested = '"leaf"';
  for (let i = 0; i < 200; i++) nested = `{"n":${nested}}`;
  const d = parseOne(raw(`{"id":"deep","text":"x","meta":${nested}}`));
  let depth = 0;
  let cur: unknown = (d as unknown as { meta: { meta: unknown } }).meta.meta;
  while (cur && typeof cur === 'object') {
    cur = (cur as { n: unknown }).n;
    depth++;
  }
  t.equal(depth, 200);
  t.equal(cur, 'leaf');
});

t.test('an already parsed value (JSON array element) is not parsed again', async (t) => {
  const d = parseOne({ kind: 'raw', seq: 0, line: 2, source: 'a.json', value: { id: 'v', text: 'from array' } });
  t.match(d, { kind: 'doc', id: 'v', text: 'from array', line: 2 });
  t.match(parseOne({ kind: 'raw', seq: 1, line: 3, source: 'a.json', value: 5 }), { code: 'NOT_AN_OBJECT', excerpt: '5' });
});
