// Where a request is going, read from request.url the way the router reads it: shared by the app's hooks
// and the routes that must decide before the router does (api-routes.ts's binary-data refusal).

/**
 * The path as Elysia's router reads it from request.url (from the first '/' at or past index 11, up to
 * '?'), so that every hook sees the route the router will. request.url is not always a URL: without a
 * Host header Bun gives the bare path, which `new URL` refuses.
 */
export function pathOf(request: Request): string {
  const url = request.url;
  const start = url.indexOf('/', 11);
  const query = url.indexOf('?', start + 1);
  return query === -1 ? url.substring(start) : url.substring(start, query);
}

/**
 * The path request.url names: after the scheme and host, or all of it when it is a bare path. Where it
 * differs from pathOf, the router would serve another route than the one asked for (a Host shorter than
 * four characters, or none before a long first segment), and a proxy that filters by path would be fooled.
 */
export function requestedPath(url: string): string {
  const scheme = url.indexOf('://');
  const start = scheme === -1 ? 0 : url.indexOf('/', scheme + 3);
  if (start === -1) return '/';
  const query = url.indexOf('?', start);
  return query === -1 ? url.substring(start) : url.substring(start, query);
}
