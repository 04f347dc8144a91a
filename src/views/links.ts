// Where the page's links point, and where its own files are served.
export const DASHBOARD_URL = '/models';
export const DOCS_URL = '/docs';
export const ASSET_PATHS = Object.freeze({
  htmx: '/assets/htmx.min.js',
  pad: '/assets/pad.js',
  css: '/assets/page.css',
});
