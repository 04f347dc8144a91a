// Flag errors of the training benches, as the project's CLI reports them: one line on stderr, exit code 2.

export interface BenchFlagErrors {
  fail(message: string): never;
  /** The flag's value as a whole number ≥ 1, or fail naming the flag. */
  positive(name: string, text: string | undefined): number;
}

export function benchFlagErrors(bench: string): BenchFlagErrors {
  const fail = (message: string): never => {
    console.error(`${bench}: ${message}`);
    process.exit(2);
  };
  const positive = (name: string, text: string | undefined): number => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${text}`);
    return n;
  };
  return { fail, positive };
}
