// The drawing page and the small HTML endpoints its htmx buttons call. Every POST here is JSON (the
// page's script encodes htmx's parameters as JSON, see src/views/static/pad.js), so the app's
// "JSON or 415" rule holds for the page as for the API; the same-origin rule is app-wide (security.ts).
// Answers are HTML fragments: the element a button targets, plus out-of-band (hx-swap-oob) blocks.
import { Elysia, t } from 'elysia';
import type { PredictionResult, Store } from '../adapters/store/store.ts';
import { pageAssets } from '../embedded/page-assets.ts';
import { retry } from '../flow/retry.ts';
import { imagesFromText, PIXELS } from '../protocol/image.ts';
import { VERSION } from '../version.ts';
import { drawingPage, PREDICT_PATH } from '../views/drawing-page.ts';
import { digitFeedback, FEEDBACK_PATH } from '../views/feedback.ts';
import { CLEAR_PATH, historyPanel } from '../views/history.ts';
import { ASSET_PATHS } from '../views/links.ts';
import type { PagePrediction } from '../views/prediction.ts';
import { resultSection } from '../views/result.ts';
import { STRICT } from './api-routes.ts';
import type { Admission } from './admission.ts';
import { classifyDrawing, digitAnswers, type Intake } from './drawn-digits.ts';
import { HttpError } from './errors.ts';

/** Predictions the page lists. */
export const HISTORY_LIMIT = 50;
/** Largest body of the page's endpoints and of /api/predict. A drawing at its limits (8,192 points) is
 * ~250 KB of JSON; 784 pixels at full float precision ~20 KB. */
export const MAX_PAGE_BODY_BYTES = 512 * 1024;
/** How long Predict waits for the consumer's write of the result before answering without it. */
const STORED_POLL = Object.freeze({ firstDelayMs: 5, maxDelayMs: 5, budgetMs: 500 });

export interface PageSource {
  readonly intake: Intake;
  readonly store: Store;
  /** The model dashboard and the metrics are on this port too (no --admin-port): the page links to them. */
  readonly operatorLinks: boolean;
}

const hidden = { hide: true };

function html(body: string, headers: Record<string, string> = {}): Response {
  return new Response(body, { headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', ...headers } });
}

function asset(path: string, type: string): Response {
  return new Response(Bun.file(path), { headers: { 'content-type': type, 'cache-control': 'public, max-age=3600' } });
}

/** The visitor's session, and the Set-Cookie header to send when it is new (or was not one we signed). */
function sessionOf(admission: Admission, request: Request): { session: string; headers: Record<string, string> } {
  const known = admission.sessionOf(request);
  if (known) return { session: known, headers: {} };
  const session = admission.sessions.issue();
  return { session, headers: { 'set-cookie': admission.sessions.cookie(session, request) } };
}

/** The largest body a route takes: the page's endpoints and the single prediction need kilobytes, so a
 * client cannot make the gateway read megabytes there; the batched KServe route and model publishing take
 * up to --max-body-bytes (`maxBodyBytes`), as does anything else. */
export function bodyLimit(path: string, maxBodyBytes: number): number {
  return SMALL_BODY_PATHS.has(path) ? Math.min(MAX_PAGE_BODY_BYTES, maxBodyBytes) : maxBodyBytes;
}

const SMALL_BODY_PATHS: ReadonlySet<string> = new Set([PREDICT_PATH, CLEAR_PATH, FEEDBACK_PATH, '/api/predict']);

const REQUEST_ID = '^[A-Za-z0-9-]{8,64}$';

/** What the page shows of a stored result: its digits can be labelled while its images are kept. */
const pagePrediction = (result: PredictionResult): PagePrediction => ({ ...result, labelable: result.images !== undefined });

export function pageRoutes({ intake, store, operatorLinks }: PageSource) {
  const { gateway } = intake;

  /** The session's history, including `latest` even if the consumer's write has not landed yet. */
  async function historyWith(latest: PagePrediction, session: string): Promise<PagePrediction[]> {
    // The consumer replies before its write finishes; waiting for it keeps what the page shows and what a
    // reload (or Clear Predictions) sees the same. Past the wait the page shows it anyway.
    const stored = async () => {
      if ((await store.getResult(latest.id)) === null) throw new Error(`result ${latest.id} is not stored yet`);
    };
    await retry(stored, STORED_POLL).catch(() => {});
    const history = (await store.sessionHistory(session, HISTORY_LIMIT)).map(pagePrediction);
    return history.some((entry) => entry.id === latest.id) ? history : [latest, ...history].slice(0, HISTORY_LIMIT);
  }

  return new Elysia({ name: 'stratus-page', normalize: false })
    .get(
      '/',
      async ({ request }) => {
        const { session, headers } = sessionOf(intake.admission, request);
        // A new visitor has no history yet: no need to ask the store.
        const history = headers['set-cookie'] ? [] : (await store.sessionHistory(session, HISTORY_LIMIT)).map(pagePrediction);
        const page = drawingPage({ modelVersion: gateway.modelVersion, history, assetVersion: VERSION, operatorLinks });
        return html(page, headers);
      },
      { detail: hidden },
    )
    .get(ASSET_PATHS.pad, () => asset(pageAssets.padJs, 'text/javascript; charset=utf-8'), { detail: hidden })
    .get(ASSET_PATHS.css, () => asset(pageAssets.css, 'text/css; charset=utf-8'), { detail: hidden })
    .post(
      PREDICT_PATH,
      async ({ body, request, server }) => {
        const { session, headers } = sessionOf(intake.admission, request);
        const client = intake.admission.clientOf(request, server);
        const answer = await classifyDrawing(intake, 'page', client, body.drawing, { sessionId: session, keepImages: true });
        const latest: PagePrediction = {
          id: answer.id,
          digits: answer.digits,
          probabilities: digitAnswers(answer).map((digit) => digit.probabilities),
          modelVersion: answer.modelVersion,
          createdAt: new Date().toISOString(),
          labelable: true,
        };
        const history = await historyWith(latest, session);
        return html(resultSection(latest) + historyPanel(history, { oob: true }), headers);
      },
      { body: t.Object({ drawing: t.Unknown() }, STRICT), detail: hidden },
    )
    .post(
      CLEAR_PATH,
      async ({ request }) => {
        const { session, headers } = sessionOf(intake.admission, request);
        if (!headers['set-cookie']) await store.clearSession(session);
        return html(historyPanel([]) + resultSection(null, { oob: true }), headers);
      },
      { detail: hidden },
    )
    .post(
      FEEDBACK_PATH,
      async ({ body, request }) => {
        const session = intake.admission.sessionOf(request);
        // Any gateway, any time within the retention: the result carries the images it was made from.
        // Only its own session may label it, so a request id seen elsewhere labels nothing.
        const stored = session ? await store.getResult(body.request) : null;
        if (!stored || stored.sessionId !== session || stored.images === undefined) {
          throw new HttpError(410, 'feedback_closed', 'this prediction is not held for feedback (expired, or not yours)');
        }
        const index = Number(body.index);
        const predicted = stored.digits[index];
        if (predicted === undefined) throw new HttpError(422, 'invalid_body', `index must be below ${stored.digits.length}`);
        const label = Number(body.label);
        await store.saveFeedback({
          requestId: stored.id,
          label,
          predicted,
          modelVersion: stored.modelVersion,
          pixels: Array.from(imagesFromText(stored.images).subarray(index * PIXELS, (index + 1) * PIXELS)),
          createdAt: new Date().toISOString(),
          sessionId: stored.sessionId,
          // A visitor's label is trained on only once an admin accepts it (/api/feedback, feedback-routes.ts).
          state: 'pending',
        });
        return html(digitFeedback({ requestId: stored.id, position: index, predicted, recorded: label }));
      },
      {
        // Strings: htmx's parameters are form values, sent as they are.
        body: t.Object({
          request: t.String({ pattern: REQUEST_ID }),
          index: t.String({ pattern: '^[0-9]{1,2}$' }),
          label: t.String({ pattern: '^[0-9]$' }),
        }, STRICT),
        detail: hidden,
      },
    );
}
