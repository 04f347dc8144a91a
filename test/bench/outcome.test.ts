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
  let leader: Bun.Subprocess | undefined;
  const outcome = await withBudget('bench script', 300, async (children) => {
    // A stand-in for a bench that starts servers of its own: the shell's `sleep` is its child.
    leader = children.spawn(['sh', '-c', 'sleep 30 & echo $!; wait'], { stdout: 'pipe', detached: true });
    await new Promise(() => {});
  });
  expect(outcome.status).toBe('failed');
  const grandchild = Number((await new Response(leader!.stdout as ReadableStream).text()).trim());
  expect(grandchild).toBeGreaterThan(0);
  // Gone, or a zombie waiting for a parent that is gone too.
  const state = await Bun.file(`/proc/${grandchild}/stat`).text().then((stat) => stat.split(') ')[1]?.[0] ?? 'gone', () => 'gone');
  expect(['gone', 'Z']).toContain(state);
});
