// What a caller of the gateway can be told, in the actors' own words; src/http/errors.ts turns each into
// an HTTP status. Kept apart from HTTP so that the actors serve any front end, and tests, alike.

/** Starting, shutting down, or the transport is closing: worth a retry in a moment. */
export class Unavailable extends Error {
  override readonly name = 'Unavailable';
}

/** No answer came within the request's deadline. */
export class TimedOut extends Error {
  override readonly name = 'TimedOut';
}

/** A reply came, but without an answer for this request. */
export class NoAnswer extends Error {
  override readonly name = 'NoAnswer';
}
