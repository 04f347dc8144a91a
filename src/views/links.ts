// Where the page's footer points. The project has no public address yet: "Project" opens the README the
// binary carries; replace PROJECT_URL with the repository's address once there is one.
export const PROJECT_URL = '/readme';
export const DOCS_URL = '/docs';
export const ASSET_PATHS = Object.freeze({
  htmx: '/assets/htmx.min.js',
  pad: '/assets/pad.js',
  css: '/assets/page.css',
});
