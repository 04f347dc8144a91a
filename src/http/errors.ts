// Every error answer has the same short shape, {"error": {"code", "message"}}, and never echoes the input;
// on the Open Inference Protocol's routes (KServe v2, /v2…) it is that protocol's {"error": "<message>"},
// which its clients read.
// The actors fail in their own words (src/actors/errors.ts); this is the one place that gives each a status.
import { NoAnswer, TimedOut, Unavailable } from '../actors/errors.ts';

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

/** On the /v2 routes, where the body is the protocol's, the error's code travels in this header. */
export const ERROR_CODE_HEADER = 'stratus-error-code';

/** The routes of the Open Inference Protocol (KServe v2): health, server and model metadata, inference. */
export function isInferenceProtocolPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}

/** `path`: the route asked for, which decides the shape. */
export function errorResponse(error: HttpError, path: string): Response {
  const message = error.message.length > MAX_MESSAGE ? `${error.message.slice(0, MAX_MESSAGE - 1)}…` : error.message;
  const protocol = isInferenceProtocolPath(path);
  const body = protocol ? { error: message } : { error: { code: error.code, message } };
  // The protocol's body has no room for the stable code that programs (and the fuzz tallies) tell errors by.
  const codeHeader: Record<string, string> = protocol ? { [ERROR_CODE_HEADER]: error.code } : {};
  return new Response(JSON.stringify(body), {
    status: error.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...codeHeader, ...error.headers },
  });
}

const RETRY_SOON = { 'retry-after': '1' };

/** The HTTP answer for a failure an actor reported; null for anything else (an internal error). */
export function fromActorError(error: unknown): HttpError | null {
  if (!(error instanceof Error)) return null;
  if (error instanceof Unavailable) return new HttpError(503, 'unavailable', error.message, RETRY_SOON);
  if (error instanceof TimedOut) return new HttpError(504, 'timeout', error.message);
  if (error instanceof NoAnswer) return new HttpError(500, 'no_answer', error.message);
  return null;
}
