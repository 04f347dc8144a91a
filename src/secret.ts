// Secrets in memory: the admin token (and any value like it) prints and serialises as [redacted], so
// that no log line, error message or JSON dump can carry it by accident; only reveal() gives it.

/** A value that must never reach a log or an error message: it prints and serialises as [redacted]. */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toJSON(): string {
    return '[redacted]';
  }
  toString(): string {
    return '[redacted]';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return '[redacted]';
  }
}
