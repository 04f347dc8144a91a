// A bench run for the report: its --json results are the outcome, a non-zero exit with results is a note
// (the runs it finished stand), and no results at all is an error that says why.
import { afterAll, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBenchScript } from '../../bench/report/bench-script.ts';
import { Children } from '../../bench/report/outcome.ts';

const dir = await mkdtemp(join(tmpdir(), 'stratus-bench-script-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A stand-in bench: writes `results` to its --json file unless null, says `last` on stderr, exits `code`. */
async function fakeBench(name: string, results: unknown, code: number, last: string): Promise<string> {
  const script = join(dir, `${name}.ts`);
  await Bun.write(
    script,
    `const file = process.argv[process.argv.indexOf('--json') + 1];\n` +
      `${results === null ? '' : `await Bun.write(file, ${JSON.stringify(JSON.stringify(results))});\n`}` +
      `console.log('printed table');\nconsole.error(${JSON.stringify(last)});\nprocess.exit(${code});\n`,
  );
  return script;
}

test('the results it wrote are the value, and its command is shown without --json', async () => {
  const script = await fakeBench('good', { runs: [1, 2] }, 0, 'all fine');
  const run = await runBenchScript<{ runs: number[] }>(new Children(), script, ['--rounds', '2'], dir, 'good');
  expect(run.value).toEqual({ runs: [1, 2] });
  expect(run.exitCode).toBe(0);
  expect(run.note).toBeUndefined();
  expect(run.command).toEndWith('good.ts --rounds 2');
  expect(run.command).not.toContain('--json');
  expect(await Bun.file(join(dir, 'good-output.txt')).text()).toBe('printed table\n');
});

test('a non-zero exit with results keeps them, with a note of why', async () => {
  const script = await fakeBench('partial', { runs: [1] }, 1, 'round 2 FAILED');
  const run = await runBenchScript(new Children(), script, [], dir, 'partial');
  expect(run.value).toEqual({ runs: [1] });
  expect(run.note).toBe('exited with 1: round 2 FAILED');
});

test('no results is an error naming the exit code and the last line it said', async () => {
  const script = await fakeBench('broken', null, 3, 'no Java here');
  expect(runBenchScript(new Children(), script, [], dir, 'broken')).rejects.toThrow(/exited with 3 and wrote no results: no Java here/);
});
