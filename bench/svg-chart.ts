/**
 * A static SVG line chart, hand-written (no charting dependency): axes from zero with round ticks,
 * axis labels, a legend under the plot (where it cannot hide a line), one line per series. Plain SVG 1.1 with explicit colours and fonts, no
 * CSS or script, on a white background, so image viewers and GitHub show it as a browser would.
 * Several charts stack vertically in one file (`svgDocument`).
 */

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** Formats x tick labels (default: 250K, 1M, ...). */
  formatX?: (x: number) => string;
}

export interface ChartSize {
  width: number;
  height: number;
}

/** Width, and height of the plot with its title and axes; each legend row adds LEGEND_ROW. */
const SIZE: ChartSize = { width: 880, height: 420 };
const MARGIN = { top: 44, right: 24, bottom: 56, left: 72 };
const LEGEND_ROW = 18;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
/** Distinct in colour and, for grey-scale prints, in dash pattern. */
const STYLES = [
  { colour: '#1f77b4', dash: '' },
  { colour: '#d62728', dash: '8 4' },
  { colour: '#2ca02c', dash: '2 3' },
  { colour: '#9467bd', dash: '10 3 2 3' },
  { colour: '#ff7f0e', dash: '4 4' },
  { colour: '#8c564b', dash: '12 4' },
  { colour: '#17becf', dash: '1 2' },
  { colour: '#7f7f7f', dash: '6 2 2 2' },
];

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 x 10^k, about `target` of them. */
export function niceTicks(max: number, target = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / target;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(round(v));
  if (ticks[ticks.length - 1]! < max) ticks.push(round(ticks[ticks.length - 1]! + step));
  return ticks;
}

/** 0, 500, 250K, 1M, 1.5M */
export function formatCount(x: number): string {
  if (x >= 1e6) return `${round(x / 1e6)}M`;
  if (x >= 1e3) return `${round(x / 1e3)}K`;
  return String(round(x));
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

const fmt = (x: number) => (Math.round(x * 10) / 10).toString();

/** Height of one chart: the plot and axes, then one legend row per series. */
export function chartHeight(spec: ChartSpec, size: ChartSize = SIZE): number {
  return size.height + spec.series.length * LEGEND_ROW + (spec.series.length > 0 ? 8 : 0);
}

/** One chart as an SVG group, `top` pixels down the document. */
export function chartGroup(spec: ChartSpec, top = 0, size: ChartSize = SIZE): string {
  const all = spec.series.flatMap((s) => s.points);
  const xTicks = niceTicks(Math.max(0, ...all.map((p) => p[0])));
  const yTicks = niceTicks(Math.max(0, ...all.map((p) => p[1])));
  const xMax = xTicks[xTicks.length - 1]!;
  const yMax = yTicks[yTicks.length - 1]!;
  const plotW = size.width - MARGIN.left - MARGIN.right;
  const plotH = size.height - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + (x / xMax) * plotW;
  const py = (y: number) => MARGIN.top + plotH - (y / yMax) * plotH;
  const formatX = spec.formatX ?? formatCount;
  const out: string[] = [`<g transform="translate(0,${top})">`];
  out.push(`<text x="${size.width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold" ${FONT} fill="#222">${escapeXml(spec.title)}</text>`);
  for (const y of yTicks) {
    out.push(`<line x1="${MARGIN.left}" y1="${fmt(py(y))}" x2="${MARGIN.left + plotW}" y2="${fmt(py(y))}" stroke="#e3e3e3" stroke-width="1"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${fmt(py(y) + 4)}" text-anchor="end" font-size="12" ${FONT} fill="#444">${escapeXml(formatCount(y))}</text>`);
  }
  for (const x of xTicks) {
    out.push(`<line x1="${fmt(px(x))}" y1="${MARGIN.top + plotH}" x2="${fmt(px(x))}" y2="${MARGIN.top + plotH + 5}" stroke="#444" stroke-width="1"/>`);
    out.push(`<text x="${fmt(px(x))}" y="${MARGIN.top + plotH + 20}" text-anchor="middle" font-size="12" ${FONT} fill="#444">${escapeXml(formatX(x))}</text>`);
  }
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#444" stroke-width="1"/>`);
  out.push(`<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#444" stroke-width="1"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${size.height - 12}" text-anchor="middle" font-size="13" ${FONT} fill="#222">${escapeXml(spec.xLabel)}</text>`);
  const yMid = MARGIN.top + plotH / 2;
  out.push(`<text x="18" y="${yMid}" text-anchor="middle" font-size="13" ${FONT} fill="#222" transform="rotate(-90 18 ${yMid})">${escapeXml(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const style = STYLES[i % STYLES.length]!;
    const dash = style.dash ? ` stroke-dasharray="${style.dash}"` : '';
    if (s.points.length > 0) {
      const pts = s.points.map(([x, y]) => `${fmt(px(x))},${fmt(py(y))}`).join(' ');
      out.push(`<polyline points="${pts}" fill="none" stroke="${style.colour}" stroke-width="2"${dash} stroke-linejoin="round"/>`);
    }
    const ly = size.height + 8 + i * LEGEND_ROW;
    out.push(`<line x1="${MARGIN.left + 12}" y1="${ly - 4}" x2="${MARGIN.left + 40}" y2="${ly - 4}" stroke="${style.colour}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${MARGIN.left + 46}" y="${ly}" font-size="12" ${FONT} fill="#222">${escapeXml(s.name)}</text>`);
  });
  out.push('</g>');
  return out.join('\n');
}

/** A whole SVG file: the charts one under the other, with an optional note at the bottom. */
export function svgDocument(charts: readonly ChartSpec[], note?: string, size: ChartSize = SIZE): string {
  const noteH = note ? 28 : 0;
  const heights = charts.map((c) => chartHeight(c, size));
  const tops = heights.map((_, i) => heights.slice(0, i).reduce((a, b) => a + b, 0));
  const height = heights.reduce((a, b) => a + b, 0) + noteH;
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${size.width}" height="${height}" viewBox="0 0 ${size.width} ${height}">`,
    `<title>${escapeXml(charts.map((c) => c.title).join('; '))}</title>`,
    `<rect x="0" y="0" width="${size.width}" height="${height}" fill="#ffffff"/>`,
    ...charts.map((c, i) => chartGroup(c, tops[i]!, size)),
  ];
  if (note) parts.push(`<text x="${MARGIN.left}" y="${height - 10}" font-size="11" ${FONT} fill="#666">${escapeXml(note)}</text>`);
  parts.push('</svg>', '');
  return parts.join('\n');
}
