// GET /models: every model version in the registry with what its training measured, which one serves,
// and buttons to serve another (promote a newer one, roll back to an older one). Server-rendered, charts
// included; the only script is /assets/dashboard.js (CSP forbids inline script). Everything interpolated
// is escaped.
import { escapeHtml } from './escape.ts';
import { readDashboardMetrics, type DashboardMetrics } from './dashboard-metrics.ts';
import { confusionHeatmapSvg } from './svg-heatmap.ts';
import { lineChartSvg, type ChartSeries } from './svg-line-chart.ts';

export interface DashboardModel {
  readonly version: string;
  readonly createdAt: string;
  readonly metrics?: unknown;
  /** serving: a consumer serves it; loading: selected, not served yet; refused (see reason); stored. */
  readonly state: 'serving' | 'loading' | 'refused' | 'stored';
  readonly reason?: string;
}

export interface DashboardState {
  /** Newest first, as the store lists them. */
  readonly models: readonly DashboardModel[];
  /** The version the consumers were last told to serve (null before any was chosen). */
  readonly selected: string | null;
  /** The version the consumers last said they serve (null before any spoke): the one that answers. */
  readonly serving: string | null;
  /** Whether the drawing page is served beside the dashboard (not when the dashboard is on an --admin-port). */
  readonly pageLink: boolean;
}

const percent = (x: number | undefined) => (x === undefined ? '—' : `${(x * 100).toFixed(2)} %`);

export function dashboardPage(state: DashboardState): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stratus — models</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/dashboard.css">
<script src="/assets/dashboard.js" defer></script>
</head>
<body>
<header>${state.pageLink ? '<a href="/">Stratus</a>' : 'Stratus'} › Models</header>
<main>
<h1>Models</h1>
<section class="admin" aria-label="Serving controls">
<label for="admin-token">Admin token</label>
<input type="password" id="admin-token" name="admin-token" autocomplete="off" spellcheck="false">
<p id="serve-status" role="status" aria-live="polite"></p>
</section>
<div id="models">
${modelsSection(state)}
</div>
</main>
</body>
</html>`;
}

/** The part a promote/rollback refreshes in place (the token field outside it keeps its value). */
export function modelsSection(state: DashboardState): string {
  const { serving } = state;
  const chosen = state.models.find((model) => model.version === state.selected && model.version !== serving);
  const summary = `<p id="serving">Serving: <strong>${escapeHtml(serving ?? 'no consumer has spoken yet')}</strong>${chosen ? ` (${selectedNote(chosen)})` : ''}</p>`;
  if (state.models.length === 0) return `${summary}<p>The registry holds no model versions yet.</p>`;
  const servingIndex = state.models.findIndex((m) => m.version === serving);
  const rows = state.models.map((model, i) => versionRow(model, readDashboardMetrics(model.metrics), i, servingIndex)).join('\n');
  const details = state.models.map((model) => versionDetails(model, readDashboardMetrics(model.metrics), model.version === serving)).join('\n');
  return `${summary}
<table id="versions">
<thead><tr><th scope="col">Version</th><th scope="col">Created</th><th scope="col">Arch</th><th scope="col">Test accuracy</th><th scope="col">Validation accuracy</th><th scope="col"></th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
${details}`;
}

/** What became of the version the consumers were told to serve, when it is not the one serving. */
function selectedNote(model: DashboardModel): string {
  const version = escapeHtml(model.version);
  if (model.state === 'refused') return `${version} was chosen and refused: ${escapeHtml(model.reason ?? 'no reason given')}`;
  return `${version} was chosen and is loading`;
}

function versionRow(model: DashboardModel, metrics: DashboardMetrics, index: number, servingIndex: number): string {
  const version = escapeHtml(model.version);
  // The store lists newest first: a version above the serving one is newer (promote), below it older (roll back).
  const verb = servingIndex === -1 || index < servingIndex ? 'Promote' : 'Roll back';
  const button = `<button type="button" data-serve-version="${version}" aria-label="${verb} ${version}">${verb}</button>`;
  const refused = `<span class="badge refused" title="${escapeHtml(model.reason ?? '')}">refused</span> ${button}`;
  const action = { serving: '<span class="badge">serving</span>', loading: '<span class="badge loading">loading</span>', refused, stored: button }[model.state];
  return `<tr data-version="${version}" data-state="${model.state}"${model.state === 'serving' ? ' class="serving"' : ''}><th scope="row"><a href="#model-${version}">${version}</a></th><td>${escapeHtml(model.createdAt)}</td><td>${escapeHtml(metrics.arch ?? '—')}</td><td>${percent(metrics.testAccuracy)}</td><td>${percent(metrics.validationAccuracy)}</td><td>${action}</td></tr>`;
}

function versionDetails(model: DashboardModel, metrics: DashboardMetrics, open: boolean): string {
  const version = escapeHtml(model.version);
  const parts: string[] = [];
  const facts = [
    metrics.trainedAt && `trained ${escapeHtml(metrics.trainedAt)}`,
    metrics.params !== undefined && `${metrics.params.toLocaleString('en')} parameters`,
    metrics.testSamples !== undefined && `${metrics.testSamples.toLocaleString('en')} test digits`,
  ].filter(Boolean);
  if (facts.length > 0) parts.push(`<p>${facts.join(' · ')}</p>`);
  if (metrics.history.length > 0) parts.push(`<div class="charts">${curves(metrics)}</div>`);
  if (metrics.perClassAccuracy) parts.push(perClassTable(metrics.perClassAccuracy));
  if (metrics.confusionMatrix) {
    parts.push(`<figure>${confusionHeatmapSvg(metrics.confusionMatrix, { title: `Confusion matrix of ${model.version}` })}<figcaption>Test digits: rows are the actual digit, columns the answer.</figcaption></figure>`);
  }
  if (parts.length === 0) parts.push('<p>The trainer recorded no metrics for this version.</p>');
  return `<details id="model-${version}" class="model"${open ? ' open' : ''}><summary>${version}</summary>\n${parts.join('\n')}\n</details>`;
}

function curves(metrics: DashboardMetrics): string {
  const series = (name: string, pick: (p: DashboardMetrics['history'][number]) => number | undefined): ChartSeries => ({
    name,
    points: metrics.history.flatMap((p) => {
      const y = pick(p);
      return y === undefined ? [] : [{ x: p.epoch, y }];
    }),
  });
  const nonEmpty = (list: ChartSeries[]) => list.filter((s) => s.points.length > 0);
  const loss = nonEmpty([series('training loss', (p) => p.loss), series('validation loss', (p) => p.valLoss)]);
  const accuracy = nonEmpty([series('training accuracy', (p) => p.accuracy), series('validation accuracy', (p) => p.valAccuracy)]);
  const charts: string[] = [];
  if (loss.length > 0) charts.push(lineChartSvg({ title: 'Loss per epoch', xLabel: 'epoch', series: loss, yMin: 0 }));
  if (accuracy.length > 0) {
    charts.push(lineChartSvg({ title: 'Accuracy per epoch', xLabel: 'epoch', series: accuracy, formatY: (y) => `${(y * 100).toFixed(1)} %` }));
  }
  return charts.join('\n');
}

function perClassTable(perClass: readonly number[]): string {
  const head = perClass.map((_, d) => `<th scope="col">${d}</th>`).join('');
  const cells = perClass.map((x) => `<td>${(x * 100).toFixed(1)}</td>`).join('');
  return `<table class="per-class"><caption>Accuracy per digit (%)</caption><thead><tr>${head}</tr></thead><tbody><tr>${cells}</tr></tbody></table>`;
}
