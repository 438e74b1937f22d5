import t from 'tap';
import { graphDocumentOf, isProblem } from '../../lib/graph/graph-input.js';

t.test('a kg result line is accepted as is; meta and usage are ignored', async (t) => {
  const line = { id: 'n-1', entities: [{ name: 'Berlin', type: 'place', mentions: 2 }], relations: [{ source: 'Berlin', target: 'Berlin', type: 'x', count: 1 }], meta: { a: 1 }, usage: {} };
  t.same(graphDocumentOf(line), { id: 'n-1', entities: line.entities, relations: line.relations });
});

t.test('lines from other tools: numeric ids, no relations, no counts', async (t) => {
  t.same(graphDocumentOf({ id: 7, entities: [{ name: 'Berlin', type: 'place' }] }), { id: '7', entities: [{ name: 'Berlin', type: 'place', mentions: 1 }], relations: [] });
  t.same(
    (
      graphDocumentOf({
        id: 'x',
        entities: [
          { name: 'A', type: 't' },
          { name: 'B', type: 't' },
        ],
        relations: [{ source: 'A', target: 'B', type: 'r' }],
      }) as { relations: unknown }
    ).relations,
    [{ source: 'A', target: 'B', type: 'r', count: 1 }],
  );
});

t.test('each problem names the field and the id when known', async (t) => {
  const cases: [unknown, string, RegExp][] = [
    [null, 'NOT_AN_OBJECT', /line is null, not a JSON object/],
    ['text', 'NOT_AN_OBJECT', /line is a string/],
    [{ entities: [] }, 'INVALID_ID', /field "id" is missing/],
    [{ id: '', entities: [] }, 'INVALID_ID', /field "id" is a string, not a non-empty string/],
    [{ id: true, entities: [] }, 'INVALID_ID', /field "id" is boolean/],
    [{ id: 'a' }, 'INVALID_RESULT', /field "entities" is missing/],
    [{ id: 'a', entities: {} }, 'INVALID_RESULT', /field "entities" is object, not an array/],
    [{ id: 'a', entities: [], relations: 'r' }, 'INVALID_RESULT', /field "relations" is a string, not an array/],
    [{ id: 'a', entities: [7] }, 'INVALID_RESULT', /entities\[0\] is number, not an object/],
    [{ id: 'a', entities: [{ name: ' ', type: 'p' }] }, 'INVALID_RESULT', /entities\[0\]\.name must be a non-empty string/],
    [{ id: 'a', entities: [{ name: 'A' }] }, 'INVALID_RESULT', /entities\[0\]\.type must be a non-empty string/],
    [{ id: 'a', entities: [{ name: 'A', type: 'p', mentions: 1.5 }] }, 'INVALID_RESULT', /entities\[0\]\.mentions must be a positive integer, got 1.5/],
    [{ id: 'a', entities: [], relations: [{ source: 'A', type: 'r' }] }, 'INVALID_RESULT', /relations\[0\]\.target must be a non-empty string/],
    [{ id: 'a', entities: [], relations: [{ source: 'A', target: 'B', type: 'r', count: -1 }] }, 'INVALID_RESULT', /relations\[0\]\.count must be a positive integer, got -1/],
  ];
  for (const [value, code, reason] of cases) {
    const r = graphDocumentOf(value);
    t.ok(isProblem(r), JSON.stringify(value));
    if (!isProblem(r)) continue;
    t.equal(r.code, code);
    t.match(r.reason, reason);
    const id = (value as { id?: unknown } | null)?.id;
    if (code === 'INVALID_RESULT') t.equal(r.id, id, 'names the document');
  }
});
