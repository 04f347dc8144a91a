// A placeholder landing page until the drawing page exists. Everything interpolated is escaped.
import { escapeHtml } from './escape.ts';

export function homePage(modelVersion: string | null): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stratus</title>
</head>
<body>
<main>
<h1>Stratus</h1>
<p>Handwritten digit recognition. The drawing page is coming; the API works today.</p>
<p>Model: <span id="model-version">${escapeHtml(modelVersion ?? 'loading…')}</span></p>
<ul>
<li><a href="/docs">API description (OpenAPI)</a></li>
<li><a href="/v2/models/mnist">Model metadata</a></li>
<li><a href="/metrics">Metrics</a></li>
</ul>
</main>
</body>
</html>`;
}
