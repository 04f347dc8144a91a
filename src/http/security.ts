// Headers every answer carries, and the same-origin rule for requests that change state.
//
// The CSP allows scripts and styles from this origin only, never inline: htmx is told (by a meta tag) not
// to inject its indicator style, and the page has no inline script or style attribute. A route that needs
// a different policy sets its own content-security-policy header, which takes precedence.
import { HttpError } from './errors.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  // For browsers that predate frame-ancestors.
  'x-frame-options': 'DENY',
});

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * True for a state-changing request a browser sent from another site's page (cross-site request forgery,
 * with the visitor's cookie). Browsers say where a request comes from in Sec-Fetch-Site, or failing that in
 * Origin; a request with neither comes from no page (curl, an SDK) and is let through: it carries no
 * visitor's cookie unless its author put one there.
 */
export function isCrossSite(request: Request): boolean {
  if (!STATE_CHANGING.has(request.method)) return false;
  const site = request.headers.get('sec-fetch-site');
  // 'none': typed by the user; 'same-site' is another origin (a sibling subdomain) and is refused too.
  if (site !== null) return site !== 'same-origin' && site !== 'none';
  const origin = request.headers.get('origin');
  if (origin === null) return false;
  try {
    return new URL(origin).host !== new URL(request.url).host;
  } catch {
    // 'null' (sandboxed frames, data: URLs) and anything unparsable.
    return true;
  }
}

export function crossSiteError(): HttpError {
  return new HttpError(403, 'cross_site', 'cross-site requests that change state are refused');
}
