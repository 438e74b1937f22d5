import t from 'tap';
import { XMLValidator } from 'fast-xml-parser';
import { escapeXml, formatCount, niceTicks, svgDocument } from '../../bench/svg-chart.js';

t.test('ticks are round steps from 0 that cover the maximum', async (t) => {
  t.same(niceTicks(1_000_000), [0, 200_000, 400_000, 600_000, 800_000, 1_000_000]);
  t.same(niceTicks(231), [0, 50, 100, 150, 200, 250]);
  t.same(niceTicks(0.7), [0, 0.2, 0.4, 0.6, 0.8]);
  t.same(niceTicks(0), [0, 1]);
  for (const max of [3, 17, 99, 101, 4321, 987_654]) {
    const ticks = niceTicks(max);
    t.ok(ticks[ticks.length - 1]! >= max, `${max}: covered`);
    t.ok(ticks.length >= 3 && ticks.length <= 12, `${max}: ${ticks.length} ticks`);
  }
});

t.test('counts are written short', async (t) => {
  t.equal(formatCount(0), '0');
  t.equal(formatCount(500), '500');
  t.equal(formatCount(250_000), '250K');
  t.equal(formatCount(1_000_000), '1M');
  t.equal(formatCount(1_500_000), '1.5M');
});

t.test('text is escaped', async (t) => {
  t.equal(escapeXml(`a<b & "c" 'd'>`), 'a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;');
});

t.test('a document is well-formed SVG with one line per series, axes, labels and legend', async (t) => {
  const svg = svgDocument(
    [
      {
        title: 'RSS <streaming>',
        xLabel: 'documents read',
        yLabel: 'RSS (MB)',
        series: [
          {
            name: 'streaming & co',
            points: [
              [0, 100],
              [500_000, 140],
              [1_000_000, 141],
            ],
          },
          {
            name: 'eager',
            points: [
              [0, 100],
              [100_000, 900],
            ],
          },
        ],
      },
      {
        title: 'second',
        xLabel: 'x',
        yLabel: 'y',
        series: [
          {
            name: 'only',
            points: [
              [0, 1],
              [10, 2],
            ],
          },
        ],
      },
    ],
    'a note',
  );
  t.equal(XMLValidator.validate(svg), true);
  t.match(svg, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.equal(svg.match(/<polyline /g)?.length, 3);
  t.match(svg, 'RSS &lt;streaming&gt;');
  t.match(svg, 'streaming &amp; co');
  t.match(svg, '>documents read</text>');
  t.match(svg, '>RSS (MB)</text>');
  t.match(svg, '>1M</text>');
  t.match(svg, '>a note</text>');
  // Two 420 px charts, legends of 2 and 1 rows (18 px each, plus 8 px), and the 28 px note.
  t.match(svg, 'height="938"');
  t.match(svg, '<rect x="0" y="0" width="880" height="938" fill="#ffffff"/>', 'an opaque background for viewers without one');
  t.match(svg, '<g transform="translate(0,464)">', "the second chart starts under the first one's legend");
});

t.test('points are placed on the axes: 0 at the origin, the top tick at the far corner', async (t) => {
  const svg = svgDocument([
    {
      title: 'x',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [0, 0],
            [1000, 250],
          ],
        },
      ],
    },
  ]);
  // Plot area: left 72, right 880 - 24 = 856, top 44, bottom 420 - 56 = 364.
  t.match(svg, '<polyline points="72,364 856,44"');
});
