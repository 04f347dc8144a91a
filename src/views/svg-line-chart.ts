// A server-rendered SVG line chart (per-epoch training curves): no script, so the page's CSP stays
// strict and the chart is there before any JavaScript runs. Pure: series in, markup out.
import { escapeHtml } from './escape.ts';

export interface ChartPoint {
  readonly x: number;
  readonly y: number;
}

export interface ChartSeries {
  readonly name: string;
  readonly points: readonly ChartPoint[];
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly series: readonly ChartSeries[];
  /** Fixed y range (e.g. 0..1 for accuracy); otherwise the data's range, padded. */
  readonly yMin?: number;
  readonly yMax?: number;
  /** Formats a y tick, e.g. as a percentage. */
  readonly formatY?: (y: number) => string;
  readonly width?: number;
  readonly height?: number;
}

/** Distinct on white and for the common colour-vision deficiencies (Okabe–Ito). */
export const SERIES_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'] as const;

const PAD = { left: 52, right: 12, top: 28, bottom: 56 } as const;
const Y_TICKS = 4;

const num = (value: number) => String(Math.round(value * 100) / 100);

export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 480;
  const height = options.height ?? 260;
  const formatY = options.formatY ?? ((y: number) => num(y));
  const points = options.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const title = escapeHtml(options.title);
  if (points.length === 0) {
    return `<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg"><title>${title}</title><text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#555">${title}: no data</text></svg>`;
  }
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = options.yMin ?? Math.min(...ys);
  let yMax = options.yMax ?? Math.max(...ys);
  if (yMax - yMin < 1e-9) {
    // A flat series still needs a range to be drawn in.
    yMin -= 0.5;
    yMax += 0.5;
  }
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + (xMax === xMin ? plotW / 2 : ((x - xMin) / (xMax - xMin)) * plotW);
  const sy = (y: number) => PAD.top + plotH - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * plotH;

  const parts: string[] = [];
  parts.push(`<title>${title}</title>`);
  parts.push(`<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`);
  for (let i = 0; i <= Y_TICKS; i++) {
    const y = yMin + ((yMax - yMin) * i) / Y_TICKS;
    parts.push(`<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${num(sy(y))}" y2="${num(sy(y))}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.left - 6}" y="${num(sy(y) + 4)}" text-anchor="end" font-size="11">${escapeHtml(formatY(y))}</text>`);
  }
  for (const x of xTicks(xMin, xMax)) {
    parts.push(`<text x="${num(sx(x))}" y="${PAD.top + plotH + 16}" text-anchor="middle" font-size="11">${num(x)}</text>`);
  }
  parts.push(`<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH + 32}" text-anchor="middle" font-size="12">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`);

  options.series.forEach((series, i) => {
    const colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
    const valid = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const name = escapeHtml(series.name);
    const coords = valid.map((p) => `${num(sx(p.x))},${num(sy(p.y))}`).join(' ');
    parts.push(`<g class="series" data-series="${name}">`);
    if (valid.length > 1) parts.push(`<polyline points="${coords}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of valid) {
      parts.push(`<circle class="point" cx="${num(sx(p.x))}" cy="${num(sy(p.y))}" r="3" fill="${colour}"><title>${name}, ${num(p.x)}: ${escapeHtml(formatY(p.y))}</title></circle>`);
    }
    parts.push('</g>');
    // Legend below the x label, one entry per series, left to right.
    const lx = PAD.left + i * 110;
    const ly = height - 8;
    parts.push(`<rect x="${lx}" y="${ly - 9}" width="10" height="10" fill="${colour}"/><text x="${lx + 14}" y="${ly}" font-size="11">${name}</text>`);
  });

  return `<svg class="chart" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** Whole-number ticks (epochs), at most ~10 of them. */
function xTicks(min: number, max: number): number[] {
  const step = Math.max(1, Math.ceil((max - min) / 10));
  const ticks: number[] = [];
  for (let x = Math.ceil(min); x <= max; x += step) ticks.push(x);
  return ticks;
}
