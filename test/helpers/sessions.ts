// Sessions as browsers get them: from the page's Set-Cookie. The server signs the ids it issues and
// treats any other as no session, so a test that plays many users asks for each one's session.

/** `count` sessions issued by the gateway at `baseUrl`, as Cookie header values. The page is rate limited
 * per address like any client's; a 429 is waited out as its Retry-After says. */
export async function issuedSessions(baseUrl: string, count: number): Promise<string[]> {
  const cookies: string[] = [];
  while (cookies.length < count) {
    const response = await fetch(`${baseUrl}/`);
    await response.arrayBuffer();
    if (response.status === 429) {
      await Bun.sleep(Number(response.headers.get('retry-after') ?? '1') * 1000);
      continue;
    }
    const cookie = response.headers.get('set-cookie')?.split(';')[0];
    if (response.status !== 200 || !cookie) throw new Error(`GET ${baseUrl}/ answered ${response.status} without a session cookie`);
    cookies.push(cookie);
  }
  return cookies;
}

/** The session id inside a cookie `name=<id>.<signature>`: what the store keeps a session's data under. */
export function sessionIdOf(cookie: string): string {
  return (cookie.split('=')[1] ?? '').split('.')[0] as string;
}
