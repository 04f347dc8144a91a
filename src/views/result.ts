// The latest prediction: the number read, the model that answered, and one chart per digit. The first
// digit's chart carries id="chart" (a stable hook for the browser tests: ten bars, always the first digit
// of the latest prediction); every digit, the first included, is a .digit-chart block.
import { digitChart } from './chart.ts';
import { escapeHtml } from './escape.ts';
import { numberRead, type PagePrediction } from './prediction.ts';

export const RESULT_ID = 'result';

export function resultSection(latest: PagePrediction | null, options: { oob?: boolean } = {}): string {
  const oob = options.oob ? ' hx-swap-oob="true"' : '';
  if (!latest) {
    return (
      `<section id="${RESULT_ID}" class="result empty" aria-live="polite"${oob}>` +
      `<p class="hint">Draw a digit, or a whole number, then press Predict.</p></section>`
    );
  }
  const count = latest.digits.length;
  const charts = latest.probabilities
    .map((probabilities, position) =>
      digitChart({ probabilities, position, of: count, ...(position === 0 ? { id: 'chart' } : {}) }),
    )
    .join('');
  return (
    `<section id="${RESULT_ID}" class="result" aria-live="polite" data-id="${escapeHtml(latest.id)}"${oob}>` +
    `<p class="number-read">Read: <output id="number">${escapeHtml(numberRead(latest))}</output></p>` +
    `<p class="answered-by">Model <span class="model-version">${escapeHtml(latest.modelVersion)}</span></p>` +
    `<div class="digit-charts">${charts}</div></section>`
  );
}
