// What every bench section of the report shares: the line saying how the bench ran (its command, a
// non-zero exit with its reason, where its raw output is) or why it has no figures, and the chart scale.
import type { BenchRun } from './bench-script.ts';
import { code, loadCell, why } from './format.ts';
import type { Outcome } from './outcome.ts';

export interface RenderedSection {
  readonly lines: string[];
  /** File name (in the charts directory) → SVG. */
  readonly charts: Map<string, string>;
}

/** The outcome's command and files, or why it has none; null value when there is nothing to render. */
export function benchPreamble<T>(label: string, outcome: Outcome<BenchRun<T>> | undefined): { lines: string[]; value: T | null } {
  if (outcome === undefined) return { lines: [`${label}: not in this run's results (written before the report ran it).`], value: null };
  if (outcome.status !== 'ok') return { lines: [`${label}: ${why(outcome)}.`], value: null };
  const run = outcome.value;
  const lines = [
    `${label}: ${code(run.command)}, ${outcome.seconds} s, load average ${loadCell(outcome)}; output and results in ${run.files.map(code).join(', ')}.`,
  ];
  if (run.note !== undefined) lines.push('', `It ${run.note} (the runs it finished are below).`);
  return { lines, value: run.value };
}

/** A bar chart's top: the largest value with a little room above it, never 0. */
export const chartTop = (values: readonly (number | null)[]) => Math.max(1e-9, ...values.filter((v): v is number => v !== null && Number.isFinite(v))) * 1.1;
