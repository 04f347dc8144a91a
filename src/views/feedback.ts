// Under each drawn digit: "right", or "it was a …" with the ten digits. Each button posts the request id,
// the digit's position and the label; the answer replaces this block (see page-routes.ts).
import { escapeHtml } from './escape.ts';

export const FEEDBACK_PATH = '/page/feedback';

export interface DigitFeedbackInput {
  readonly requestId: string;
  readonly position: number;
  readonly predicted: number;
  /** The label the user gave, once recorded. */
  readonly recorded?: number;
}

function feedbackButton(input: DigitFeedbackInput, label: number, text: string, accessibleName: string, className: string): string {
  // hx-vals is JSON inside an attribute: escaped like any other attribute value.
  const vals = JSON.stringify({ request: input.requestId, index: String(input.position), label: String(label) });
  return (
    `<button type="button" class="${className}" hx-post="${FEEDBACK_PATH}" hx-vals="${escapeHtml(vals)}" ` +
    `hx-target="closest .digit-feedback" hx-swap="outerHTML" aria-label="${escapeHtml(accessibleName)}">${escapeHtml(text)}</button>`
  );
}

export function digitFeedback(input: DigitFeedbackInput): string {
  const others = Array.from({ length: 10 }, (_, label) =>
    feedbackButton(input, label, String(label), `it was a ${label}`, label === input.recorded ? 'fb-label chosen' : 'fb-label'),
  ).join('');
  const recorded =
    input.recorded === undefined
      ? ''
      : // A visitor's label waits for an admin's review before anything trains on it: the note says so.
        `<span class="fb-recorded" role="status">${escapeHtml(input.recorded === input.predicted ? 'thanks: marked right, for review' : `thanks: sent as a ${input.recorded}, for review`)}</span>`;
  return (
    `<div class="digit-feedback" data-position="${input.position}">` +
    `<span class="fb-digit" aria-hidden="true">${input.predicted}</span>` +
    feedbackButton(input, input.predicted, 'right', `right, it is a ${input.predicted}`, 'fb-right') +
    `<details class="fb-other"><summary>it was a …</summary><span class="fb-labels">${others}</span></details>` +
    `${recorded}</div>`
  );
}
