// Text helpers every section of the report shares: percentages, durations, safe table cells, and why an
// experiment has no figures.
import { escapeHtml } from '../../src/views/escape.ts';
import type { Outcome } from './outcome.ts';

export const pct = (fraction: number, digits = 1) => `${(fraction * 100).toFixed(digits)} %`;
export const ms = (value: number | null) => (value === null || Number.isNaN(value) ? 'n/a' : value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`);
/** Whole numbers with thousands separators, as the prose of the docs writes them. */
export const int = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a');
/** A ratio of two medians, "1.23×"; n/a when either side is missing. */
export const ratio = (a: number, b: number) => (Number.isFinite(a / b) && b !== 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
/** Text for a markdown table cell: escaped, and no pipe or newline to break the row. */
export const cell = (text: string) => escapeHtml(text).replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
export const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;

export function why<T>(outcome: Outcome<T>): string {
  if (outcome.status === 'failed') return `failed after ${outcome.seconds} s: ${cell(outcome.error)}`;
  if (outcome.status === 'not run') return `not run: ${cell(outcome.reason)}`;
  return 'ok';
}

/** The machine's 1-minute load average during an experiment, for its table row. */
export function loadCell<T>(outcome: Outcome<T>): string {
  return outcome.status !== 'not run' && outcome.load !== undefined ? `${outcome.load.mean.toFixed(1)} (max ${outcome.load.max.toFixed(1)})` : 'n/a';
}
