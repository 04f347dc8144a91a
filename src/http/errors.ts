// Every error answer has the same short shape, {"error": {"code", "message"}}, and never echoes the input.
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** Long enough to say what is wrong, short enough that no request body can come back through it. */
const MAX_MESSAGE = 200;

export function errorResponse(error: HttpError): Response {
  const message = error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE - 1)}…` : error.message;
  return new Response(JSON.stringify({ error: { code: error.code, message } }), {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...error.headers },
  });
}
