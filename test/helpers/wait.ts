// Poll a condition instead of sleeping a guessed time; fail with the condition's text when it never holds.
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000, everyMs = 5): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${condition.toString()}`);
    await Bun.sleep(everyMs);
  }
}
