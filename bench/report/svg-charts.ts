// The report's charts as standalone SVG files: a line chart (users, requests/s, response-time
// percentiles over time; training curves) and a bar chart (per-digit accuracy, ours beside the paper's).
// Pure functions, no plotting library: numbers in, markup out; every text is escaped.
import { escapeHtml } from '../../src/views/escape.ts';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
}

export interface LineChart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Fixed y range; otherwise 0 (or the data's minimum if negative) to the data's maximum. */
  readonly yMin?: number;
  readonly yMax?: number;
  /** A dot on every point: for charts of a few measured settings, where the lines only join them. */
  readonly markers?: boolean;
  readonly width?: number;
  readonly height?: number;
}

export interface Bar {
  readonly label: string;
  /** null: no figure (drawn as "n/a"). */
  readonly values: readonly (number | null)[];
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  /** One name per value of each bar group, e.g. ["Stratus", "paper"]. */
  readonly groups: readonly string[];
  readonly bars: readonly Bar[];
  readonly yMax: number;
  readonly formatValue?: (value: number) => string;
  readonly width?: number;
  readonly height?: number;
}

/** Okabe–Ito: distinct on white and for the common colour-vision deficiencies. */
export const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#000000'] as const;
const PAD = { left: 64, right: 16, top: 36, bottom: 64 } as const;
const TICKS = 5;

const fmt = (value: number) => String(Number(value.toPrecision(4)));
const colour = (i: number) => COLOURS[i % COLOURS.length] as string;

/** Round tick steps (1, 2, 5 × 10^n) so axis labels read as plain numbers. */
export function niceStep(range: number, ticks: number = TICKS): number {
  if (!(range > 0) || !Number.isFinite(range)) return 1;
  const raw = range / ticks;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  return step ?? 10 * power;
}

function frame(width: number, height: number, title: string, body: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
    `font-family="sans-serif" font-size="12">\n<title>${escapeHtml(title)}</title>\n` +
    `<rect width="${width}" height="${height}" fill="#ffffff"/>\n` +
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escapeHtml(title)}</text>\n${body}</svg>\n`
  );
}

function noData(width: number, height: number, title: string): string {
  return frame(width, height, title, `<text x="${width / 2}" y="${height / 2}" text-anchor="middle" fill="#555555">no data</text>\n`);
}

function yAxis(yMin: number, yMax: number, sy: (y: number) => number, width: number, label: string, height: number, format: (v: number) => string): string {
  const step = niceStep(yMax - yMin);
  let out = '';
  for (let y = Math.ceil(yMin / step) * step; y <= yMax + step * 1e-9; y += step) {
    const py = sy(y).toFixed(1);
    out += `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${py}" y2="${py}" stroke="#e0e0e0"/>`;
    out += `<text x="${PAD.left - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${escapeHtml(format(y))}</text>\n`;
  }
  const cy = PAD.top + (height - PAD.top - PAD.bottom) / 2;
  out += `<text transform="translate(14 ${cy}) rotate(-90)" text-anchor="middle">${escapeHtml(label)}</text>\n`;
  return out;
}

export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 320;
  const points = chart.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (points.length === 0) return noData(width, height, chart.title);
  const xMin = Math.min(...points.map((p) => p.x));
  let xMax = Math.max(...points.map((p) => p.x));
  if (xMax === xMin) xMax = xMin + 1;
  const yMin = chart.yMin ?? Math.min(0, ...points.map((p) => p.y));
  let yMax = chart.yMax ?? Math.max(...points.map((p) => p.y));
  if (yMax <= yMin) yMax = yMin + 1;
  yMax = chart.yMax ?? yMin + Math.ceil((yMax - yMin) / niceStep(yMax - yMin)) * niceStep(yMax - yMin);
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const sy = (y: number) => PAD.top + plotH - ((Math.min(Math.max(y, yMin), yMax) - yMin) / (yMax - yMin)) * plotH;

  let body = yAxis(yMin, yMax, sy, width, chart.yLabel, height, fmt);
  const xStep = niceStep(xMax - xMin);
  for (let x = Math.ceil(xMin / xStep) * xStep; x <= xMax + xStep * 1e-9; x += xStep) {
    body += `<text x="${sx(x).toFixed(1)}" y="${height - PAD.bottom + 16}" text-anchor="middle">${escapeHtml(fmt(x))}</text>`;
  }
  body += `\n<text x="${PAD.left + plotW / 2}" y="${height - PAD.bottom + 34}" text-anchor="middle">${escapeHtml(chart.xLabel)}</text>\n`;
  body += `<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888888"/>\n`;
  chart.series.forEach((series, i) => {
    const valid = series.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const path = valid.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    if (valid.length === 1) body += `<circle cx="${sx(valid[0]!.x).toFixed(1)}" cy="${sy(valid[0]!.y).toFixed(1)}" r="3" fill="${colour(i)}"/>\n`;
    else if (valid.length > 1) body += `<polyline fill="none" stroke="${colour(i)}" stroke-width="2" points="${path}"/>\n`;
    if (chart.markers && valid.length > 1) {
      body += valid.map((p) => `<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3" fill="${colour(i)}"/>`).join('') + '\n';
    }
  });
  body += legend(chart.series.map((s) => s.name), width, height);
  return frame(width, height, chart.title, body);
}

function legend(names: readonly string[], width: number, height: number): string {
  let x = PAD.left;
  const y = height - 14;
  let out = '';
  names.forEach((name, i) => {
    out += `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${colour(i)}"/><text x="${x + 16}" y="${y + 1}">${escapeHtml(name)}</text>`;
    x += 28 + name.length * 7;
  });
  return `${out}\n`;
}

export function barChartSvg(chart: BarChart): string {
  const width = chart.width ?? 640;
  const height = chart.height ?? 320;
  if (chart.bars.length === 0) return noData(width, height, chart.title);
  const format = chart.formatValue ?? fmt;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const sy = (y: number) => PAD.top + plotH - (Math.min(Math.max(y, 0), chart.yMax) / chart.yMax) * plotH;
  let body = yAxis(0, chart.yMax, sy, width, chart.yLabel, height, format);
  const slot = plotW / chart.bars.length;
  const groups = Math.max(1, chart.groups.length);
  const barW = (slot * 0.8) / groups;
  chart.bars.forEach((bar, b) => {
    const left = PAD.left + b * slot + slot * 0.1;
    bar.values.forEach((value, g) => {
      const x = left + g * barW;
      if (value === null || !Number.isFinite(value)) {
        body += `<text x="${(x + barW / 2).toFixed(1)}" y="${PAD.top + plotH - 4}" text-anchor="middle" font-size="9" fill="#777777">n/a</text>`;
        return;
      }
      const top = sy(value);
      body += `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 1).toFixed(1)}" height="${(PAD.top + plotH - top).toFixed(1)}" fill="${colour(g)}">`;
      body += `<title>${escapeHtml(`${bar.label} ${chart.groups[g] ?? ''}: ${format(value)}`)}</title></rect>`;
    });
    body += `<text x="${(PAD.left + b * slot + slot / 2).toFixed(1)}" y="${height - PAD.bottom + 16}" text-anchor="middle">${escapeHtml(bar.label)}</text>\n`;
  });
  body += `<line x1="${PAD.left}" x2="${width - PAD.right}" y1="${PAD.top + plotH}" y2="${PAD.top + plotH}" stroke="#888888"/>\n`;
  body += legend(chart.groups, width, height);
  return frame(width, height, chart.title, body);
}
