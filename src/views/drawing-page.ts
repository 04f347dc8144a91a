// src/views/ renders the server-side HTML (the drawing page, the model dashboard, their charts): pure
// functions from data to escaped HTML, importing only protocol/. The page's script and style are static/.
//
// The drawing page: a wide canvas for a digit or a whole number, Predict / Clear Canvas, the latest
// prediction's charts and this visitor's history. Pure: data in, HTML out, everything interpolated escaped.
// No inline script or style anywhere (the CSP forbids both): behaviour is in /assets/pad.js, looks in
// /assets/page.css, and htmx is told not to inject its indicator style.
import { escapeHtml } from './escape.ts';
import { historyPanel } from './history.ts';
import { ASSET_PATHS, DASHBOARD_URL, DOCS_URL } from './links.ts';
import type { PagePrediction } from './prediction.ts';
import { resultSection } from './result.ts';

export const PREDICT_PATH = '/page/predict';

/** htmx 2 settings: no injected <style>, no eval (hx-on, js: values), no <script> in swapped content. */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
});

export interface DrawingPageInput {
  /** The model the gateway last heard of; null before any consumer announced one. */
  readonly modelVersion: string | null;
  /** Newest first. */
  readonly history: readonly PagePrediction[];
  /** Appended to asset URLs so a new build is never served a cached old script. */
  readonly assetVersion: string;
  /** Whether the model dashboard and the metrics are served beside the page (not on an --admin-port). */
  readonly operatorLinks: boolean;
}

export function drawingPage({ modelVersion, history, assetVersion, operatorLinks }: DrawingPageInput): string {
  const v = `?v=${encodeURIComponent(assetVersion)}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="htmx-config" content="${escapeHtml(HTMX_CONFIG)}">
<title>Stratus · handwritten digits</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PATHS.css}${v}">
<script src="${ASSET_PATHS.htmx}" defer></script>
<script src="${ASSET_PATHS.pad}${v}" defer></script>
</head>
<body hx-ext="stratus-json">
<header class="page-head">
<h1>Stratus</h1>
<p>Handwritten digit recognition. Draw one digit or a whole number.</p>
</header>
<main class="layout">
<section class="draw" aria-labelledby="draw-heading">
<h2 id="draw-heading">Draw</h2>
<canvas id="pad" aria-label="Drawing area: draw digits with a mouse, a finger or a pen">Your browser cannot show the drawing area.</canvas>
<div class="actions">
<button type="button" id="clear-canvas" class="secondary">Clear Canvas</button>
<button type="button" id="predict" hx-post="${PREDICT_PATH}" data-send-drawing hx-target="#result" hx-swap="outerHTML" hx-disabled-elt="this">Predict</button>
</div>
<p id="status" class="status" role="status" aria-live="polite"></p>
${resultSection(history[0] ?? null)}
</section>
${historyPanel(history)}
</main>
<footer class="page-foot">
<p>Serving model <span id="model-version">${escapeHtml(modelVersion ?? 'not announced yet')}</span></p>
<nav aria-label="links">${operatorLinks ? `<a href="${DASHBOARD_URL}">Models</a> · ` : ''}<a href="${DOCS_URL}">API documentation</a> · <a href="/v2/models/mnist">Model metadata</a>${operatorLinks ? ' · <a href="/metrics">Metrics</a>' : ''}</nav>
</footer>
</body>
</html>`;
}
