// The machine-readable side of a bench: with `--json FILE` it writes its results there (every run, not
// only the medians it prints), which bench/report.ts reads to render its sections.
export async function writeJsonResults(file: string | undefined, results: unknown): Promise<void> {
  if (file !== undefined) await Bun.write(file, `${JSON.stringify(results, null, 1)}\n`);
}

/** A failed run's error as its JSON records it: the first lines of the message, on one line. */
export function errorSummary(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n').slice(0, 3).join(' ');
}
