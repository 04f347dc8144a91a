// Secrets in memory: the admin token (and any value like it) prints and serialises as [redacted], so
// that no log line, error message or JSON dump can carry it by accident; only reveal() gives it. And the
// one way a user and password are read from a mounted Kubernetes Secret.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/**
 * The files `username` and `password` of a directory where a Secret is mounted. `fail` makes the error
 * for a file that cannot be read or is empty, named after the flag that gave the directory.
 */
export function readCredentialFiles(directory: string, fail: (problem: string) => Error): { username: string; password: string } {
  const read = (file: string) => {
    let content: string;
    try {
      content = readFileSync(join(directory, file), 'utf8');
    } catch {
      throw fail(`cannot read ${file} in ${directory}`);
    }
    // `echo secret > password` leaves a newline that is not part of the secret.
    const value = content.replace(/\r?\n$/, '');
    if (value === '') throw fail(`${file} in ${directory} is empty`);
    return value;
  };
  return { username: read('username'), password: read('password') };
}
