// The runner's time budgets: a failing or overrunning experiment becomes an outcome, and the processes
// it started are stopped.
import { expect, test } from 'bun:test';
import { withBudget } from '../../bench/report/outcome.ts';

test('a result within the budget is ok, with its value', async () => {
  const outcome = await withBudget('quick', 5_000, async () => 42);
  expect(outcome.status).toBe('ok');
  if (outcome.status === 'ok') expect(outcome.value).toBe(42);
});

test('an error is a failed outcome carrying its first line', async () => {
  const outcome = await withBudget('broken', 5_000, async () => {
    throw new Error('locust exited with 2: no such file\nstack...');
  });
  expect(outcome).toMatchObject({ status: 'failed', error: 'locust exited with 2: no such file' });
});

test('over its budget, the experiment fails and its processes are stopped', async () => {
  let spawned: Bun.Subprocess | undefined;
  const outcome = await withBudget('stuck', 300, async (children) => {
    spawned = children.spawn(['sleep', '60'], { stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    await spawned.exited;
    return 'finished';
  });
  expect(outcome.status).toBe('failed');
  if (outcome.status === 'failed') expect(outcome.error).toContain('over its budget');
  expect(spawned?.killed).toBe(true);
  expect(await spawned!.exited).not.toBe(0);
}, 10_000);

test('each outcome carries the load average sampled while it ran', async () => {
  const outcome = await withBudget('sampled', 5_000, async () => 'done');
  expect(outcome.status).toBe('ok');
  if (outcome.status !== 'ok') return;
  expect(outcome.load).toBeDefined();
  expect(outcome.load!.mean).toBeGreaterThanOrEqual(0);
  expect(outcome.load!.max).toBeGreaterThanOrEqual(outcome.load!.mean);
});

test('over its budget, a process started detached is stopped with everything it started', async () => {
  let grandchild = 0;
  // The budget only has to outlast the shell's start on a busy machine: the experiment reports the
  // grandchild's pid as soon as the shell prints it, then hangs until the budget stops it.
  const outcome = await withBudget('bench script', 3_000, async (children) => {
    // A stand-in for a bench that starts servers of its own: the shell's `sleep` is its child.
    const leader = children.spawn(['sh', '-c', 'sleep 30 & echo $!; wait'], { stdout: 'pipe', detached: true });
    const reader = (leader.stdout as ReadableStream<Uint8Array>).getReader();
    grandchild = Number(new TextDecoder().decode((await reader.read()).value).trim());
    await new Promise(() => {});
  });
  expect(outcome.status).toBe('failed');
  expect(grandchild).toBeGreaterThan(0);
  // Gone, or a zombie waiting for a parent that is gone too. The signal is sent when the budget runs out
  // but a busy machine may run the dying process a little later, so it gets a few seconds (its sleep is 30).
  const processState = () => Bun.file(`/proc/${grandchild}/stat`).text().then((stat) => stat.split(') ')[1]?.[0] ?? 'gone', () => 'gone');
  let state = await processState();
  for (const deadline = Date.now() + 5_000; !['gone', 'Z'].includes(state) && Date.now() < deadline; state = await processState()) await Bun.sleep(20);
  expect(['gone', 'Z']).toContain(state);
}, 15_000);
