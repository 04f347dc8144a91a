// This visitor's predictions, newest first. #history holds exactly one element per prediction, each
// with data-digit = the whole number as read (a stable hook for the browser tests).
import { escapeHtml } from './escape.ts';
import { digitFeedback } from './feedback.ts';
import { numberRead, type PagePrediction } from './prediction.ts';

export const HISTORY_PANEL_ID = 'history-panel';
export const CLEAR_PATH = '/page/clear';

export interface HistoryOptions {
  readonly oob?: boolean;
}

/** Feedback needs the pixels the model saw: only predictions stored with them offer it. */
function historyEntry(prediction: PagePrediction): string {
  const number = numberRead(prediction);
  const time = prediction.createdAt.length >= 19 ? prediction.createdAt.slice(11, 19) : prediction.createdAt;
  const feedback = prediction.labelable
    ? `<div class="feedback">${prediction.digits
        .map((predicted, position) => digitFeedback({ requestId: prediction.id, position, predicted }))
        .join('')}</div>`
    : '';
  return (
    `<li class="prediction" data-digit="${escapeHtml(number)}" data-id="${escapeHtml(prediction.id)}">` +
    `<div class="prediction-line"><span class="prediction-number">${escapeHtml(number)}</span>` +
    `<span class="prediction-meta">model ${escapeHtml(prediction.modelVersion)} · ` +
    `<time datetime="${escapeHtml(prediction.createdAt)}">${escapeHtml(time)} UTC</time></span></div>` +
    `${feedback}</li>`
  );
}

export function historyPanel(history: readonly PagePrediction[], options: HistoryOptions = {}): string {
  const oob = options.oob ? ' hx-swap-oob="true"' : '';
  // No whitespace between entries: #history's children are the predictions and nothing else.
  const entries = history.map(historyEntry).join('');
  return (
    `<section id="${HISTORY_PANEL_ID}" class="history-panel" aria-labelledby="history-heading"${oob}>` +
    `<div class="panel-head"><h2 id="history-heading">History</h2>` +
    `<button type="button" class="secondary" hx-post="${CLEAR_PATH}" hx-target="#${HISTORY_PANEL_ID}" hx-swap="outerHTML">Clear Predictions</button></div>` +
    `<ol id="history" class="history">${entries}</ol>` +
    (history.length === 0 ? `<p class="hint">No predictions yet.</p>` : '') +
    `</section>`
  );
}
