// The ten probabilities of one drawn digit as a bar chart, rendered on the server. Each bar is an
// SVG rect whose width is an attribute (the CSP forbids inline styles), with the percentage as text
// beside it so the numbers read without the picture.
import { escapeHtml } from './escape.ts';

export interface DigitChartInput {
  /** The ten probabilities, index = digit. */
  readonly probabilities: readonly number[];
  /** Position of this digit in the number, from 0. */
  readonly position: number;
  /** Digits in the whole number. */
  readonly of: number;
  /** The id to carry, if any: the page gives the latest prediction's first digit id="chart". */
  readonly id?: string;
}

export function formatPercent(probability: number): string {
  const percent = probability * 100;
  // Small values keep a decimal so 0.4 % and 0 % stay distinguishable.
  return `${percent >= 10 || percent === 0 ? percent.toFixed(0) : percent.toFixed(1)} %`;
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

export function digitChart({ probabilities, position, of, id }: DigitChartInput): string {
  const top = argmax(probabilities);
  const caption = of > 1 ? `Digit ${position + 1} of ${of}: ${top}` : `Digit: ${top}`;
  const bars = probabilities
    .map((probability, digit) => {
      // Clamped so a malformed stored value cannot draw outside the track.
      const width = Math.min(100, Math.max(0, probability * 100)).toFixed(2);
      return (
        `<li class="bar${digit === top ? ' top' : ''}" data-digit="${digit}" data-probability="${escapeHtml(String(probability))}">` +
        `<span class="bar-label">${digit}</span>` +
        `<svg class="bar-track" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">` +
        `<rect x="0" y="0" width="${width}" height="10"></rect></svg>` +
        `<span class="bar-value">${escapeHtml(formatPercent(probability))}</span></li>`
      );
    })
    .join('');
  return (
    `<figure class="digit-chart"${id ? ` id="${escapeHtml(id)}"` : ''} data-position="${position}">` +
    `<figcaption>${escapeHtml(caption)} <span class="confidence">(${escapeHtml(formatPercent(probabilities[top] ?? 0))})</span></figcaption>` +
    `<ol class="bars" aria-label="${escapeHtml(`probabilities of digit ${position + 1}`)}">${bars}</ol></figure>`
  );
}
