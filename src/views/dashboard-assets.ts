// The dashboard's one script and stylesheet, served from /assets/ (CSP allows only same-origin script and
// style). Kept as strings so the compiled binary carries them without a file of its own.
//
// The script exists because the admin endpoint needs `authorization: Bearer <token>` from a password
// field and a JSON body (the app answers 415 to anything else): neither plain forms nor htmx attributes
// can do that. The token stays in the field: it is never stored.
export const DASHBOARD_JS = `'use strict';
document.addEventListener('click', async (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-serve-version]') : null;
  if (!button) return;
  const version = button.getAttribute('data-serve-version');
  const token = document.getElementById('admin-token').value.trim();
  const status = document.getElementById('serve-status');
  if (!token) {
    status.textContent = 'Paste the admin token first.';
    document.getElementById('admin-token').focus();
    return;
  }
  button.disabled = true;
  status.textContent = 'Asking to serve ' + version + '…';
  try {
    const response = await fetch('/api/models/' + encodeURIComponent(version) + '/serve', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: '{}',
    });
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      const message = body && body.error && typeof body.error.message === 'string' ? body.error.message : response.statusText;
      status.textContent = 'Refused (' + response.status + '): ' + message;
      button.disabled = false;
      return;
    }
    // The answer says how it went: the consumers serve it, refused it (and why), or still load it.
    const outcome = await response.json().catch(() => ({}));
    status.textContent =
      outcome.state === 'serving' ? 'Now serving ' + version + '.'
      : outcome.state === 'refused' ? version + ' was refused: ' + outcome.reason
      : version + ' is loading; this page shows when it serves.';
    // Refresh the list in place, so the token field keeps its value.
    const page = await fetch('/models', { headers: { accept: 'text/html' } }).then((r) => r.text());
    const fresh = new DOMParser().parseFromString(page, 'text/html').getElementById('models');
    if (fresh) document.getElementById('models').replaceChildren(...fresh.childNodes);
  } catch (error) {
    status.textContent = 'Request failed: ' + (error instanceof Error ? error.message : String(error));
    button.disabled = false;
  }
});
`;

export const DASHBOARD_CSS = `body { font-family: system-ui, sans-serif; margin: 0; color: #111; background: #fff; }
header { padding: 0.75rem 1rem; background: #0b3d6e; color: #fff; }
header a { color: #fff; }
main { padding: 1rem; max-width: 72rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { padding: 0.3rem 0.6rem; border-bottom: 1px solid #ddd; text-align: left; }
tr.serving { background: #eef6ff; }
.badge { background: #0b3d6e; color: #fff; border-radius: 0.6rem; padding: 0.1rem 0.5rem; font-size: 0.85rem; }
.badge.loading { background: #8a6d00; }
.badge.refused { background: #a4262c; }
.admin { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; margin-bottom: 1rem; }
#serve-status { flex-basis: 100%; margin: 0; min-height: 1.2em; }
details.model { margin: 0.75rem 0; border: 1px solid #ddd; border-radius: 4px; padding: 0.5rem 0.75rem; }
details.model summary { font-weight: bold; cursor: pointer; }
.charts { display: flex; flex-wrap: wrap; gap: 1rem; }
svg { max-width: 100%; height: auto; }
button { font: inherit; padding: 0.25rem 0.75rem; cursor: pointer; }
`;
