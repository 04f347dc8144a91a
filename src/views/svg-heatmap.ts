// The confusion matrix as a server-rendered SVG heat map with the count in every cell. Colour is by
// the fraction of the actual digit's row, on two scales: the diagonal (right answers) in blue, and the
// mistakes in red relative to the worst mistake. With one shared scale a 99 % model's mistakes would all
// be the same white, which is exactly what a reader wants to see.
import { escapeHtml } from './escape.ts';

export interface HeatmapOptions {
  readonly title: string;
  /** Label of each class, row and column alike; defaults to 0, 1, 2, … */
  readonly labels?: readonly string[];
  readonly cell?: number;
}

const MARGIN = { left: 56, top: 56, right: 8, bottom: 8 } as const;

/** `matrix[actual][predicted]` counts; a square matrix. */
export function confusionHeatmapSvg(matrix: readonly (readonly number[])[], options: HeatmapOptions): string {
  const n = matrix.length;
  const cell = options.cell ?? 40;
  const label = (i: number) => escapeHtml(options.labels?.[i] ?? String(i));
  const width = MARGIN.left + n * cell + MARGIN.right;
  const height = MARGIN.top + n * cell + MARGIN.bottom;
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  const share = (actual: number, predicted: number) => {
    const total = rowTotals[actual] ?? 0;
    return total > 0 ? (matrix[actual]?.[predicted] ?? 0) / total : 0;
  };
  let worstMistake = 0;
  for (let a = 0; a < n; a++) for (let p = 0; p < n; p++) if (a !== p) worstMistake = Math.max(worstMistake, share(a, p));

  const parts: string[] = [`<title>${escapeHtml(options.title)}</title>`];
  parts.push(`<text x="${MARGIN.left + (n * cell) / 2}" y="14" text-anchor="middle" font-size="12">predicted →</text>`);
  parts.push(`<text x="12" y="${MARGIN.top + (n * cell) / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 12 ${MARGIN.top + (n * cell) / 2})">actual →</text>`);
  for (let i = 0; i < n; i++) {
    parts.push(`<text x="${MARGIN.left + i * cell + cell / 2}" y="${MARGIN.top - 8}" text-anchor="middle" font-size="12" font-weight="bold">${label(i)}</text>`);
    parts.push(`<text x="${MARGIN.left - 8}" y="${MARGIN.top + i * cell + cell / 2 + 4}" text-anchor="end" font-size="12" font-weight="bold">${label(i)}</text>`);
  }
  for (let a = 0; a < n; a++) {
    for (let p = 0; p < n; p++) {
      const count = matrix[a]?.[p] ?? 0;
      const fill = a === p ? blue(share(a, p)) : red(worstMistake > 0 ? share(a, p) / worstMistake : 0);
      const dark = a === p ? share(a, p) > 0.5 : worstMistake > 0 && share(a, p) / worstMistake > 0.6;
      const x = MARGIN.left + p * cell;
      const y = MARGIN.top + a * cell;
      parts.push(
        `<g class="cell" data-actual="${a}" data-predicted="${p}" data-count="${count}">` +
          `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#fff"/>` +
          `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" font-size="11" fill="${dark ? '#fff' : '#111'}">${count}</text>` +
          `<title>actual ${label(a)}, predicted ${label(p)}: ${count}</title></g>`,
      );
    }
  }
  return `<svg class="heatmap" role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">${parts.join('')}</svg>`;
}

/** 0 → white, 1 → full colour; linear in each RGB channel. */
function shade(t: number, [r, g, b]: readonly [number, number, number]): string {
  const k = Math.min(Math.max(t, 0), 1);
  const channel = (c: number) => Math.round(255 + (c - 255) * k).toString(16).padStart(2, '0');
  return `#${channel(r)}${channel(g)}${channel(b)}`;
}
const blue = (t: number) => shade(t, [8, 69, 148]);
const red = (t: number) => shade(t, [165, 15, 21]);
