// Request bodies read within a limit, whether their length is declared or they come in chunks: a declared
// length over the limit is refused before a byte is read, and a chunked body is counted as it arrives and
// refused the moment it passes the limit, so a body larger than the limit is never held whole.
import { HttpError } from './errors.ts';

const tooLarge = (limit: number) => new HttpError(413, 'body_too_large', `body exceeds ${limit} bytes`);

/** The body as JSON; 413 beyond `limit` bytes, 400 when it is not JSON. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const text = await readText(request, limit);
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'malformed_json', 'the body is not valid JSON');
  }
}

async function readText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length');
  // Bun holds a declared body to its declared length: reading it whole is bounded.
  if (declared !== null) {
    if (!(Number(declared) <= limit)) throw tooLarge(limit);
    return request.text();
  }
  const reader = request.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
