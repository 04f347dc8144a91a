// One Locust run, headless: a scenario of bench/locust/locustfile.py at a number of users and a spawn
// rate for a fixed time, against a running Stratus. Its CSV files stay in the raw directory (the
// report's numbers come from them) and are parsed into a LoadRun.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AGGREGATED, parseFailures, parseHistory, parseStats, type FailureRow, type HistoryPoint, type StatsRow } from './locust-csv.ts';
import type { Children } from './outcome.ts';
import { REPO, relativeToRepo, shellWord } from './processes.ts';

export const LOCUSTFILE = resolve(REPO, 'bench/locust/locustfile.py');
/** Debian's python3-locust: its own /usr/bin/python3, whatever `python3` on PATH is. */
export const LOCUST = process.env.STRATUS_LOCUST ?? '/usr/bin/locust';

export const SCENARIOS = {
  website: { userClass: 'WebsiteUser', title: 'GET / (the page)', method: 'GET' },
  predict: { userClass: 'PredictUser', title: 'POST /api/predict, MNIST pixels', method: 'POST' },
  drawing: { userClass: 'DrawingUser', title: 'POST /api/predict, pen strokes', method: 'POST' },
} as const;
export type Scenario = keyof typeof SCENARIOS;

export const LOCUST_INPUTS_NOTE =
  '$DIGITS: a JSON file of the first 500 MNIST test digits with their labels, $DRAWINGS: 500 UCI pendigits samples spread over writers 21–30, whose digits no model here was trained on, both written by the runner (bench/report/load-data.ts) before the runs';

export interface LoadSetting {
  readonly users: number;
  readonly spawnRate: number;
}

export interface LoadRun extends LoadSetting {
  readonly scenario: Scenario;
  readonly seconds: number;
  /** Exactly what ran, for the report. */
  readonly command: string;
  readonly total: StatsRow;
  readonly failures: FailureRow[];
  readonly history: HistoryPoint[];
  /** Locust warned that its own CPU was saturated: then it, not Stratus, may have set the pace. */
  readonly locustCpuWarning: boolean;
  /** The CSV files, relative to the repository. */
  readonly files: string[];
}

export interface LocustInputs {
  readonly digitsFile: string;
  readonly drawingsFile: string;
  /** Each user's pause between requests, seconds. */
  readonly wait: readonly [number, number];
}

export function locustAvailable(): string | null {
  return existsSync(LOCUST) ? null : `no Locust at ${LOCUST} (apt-get install python3-locust, or set STRATUS_LOCUST)`;
}

export async function runLocust(children: Children, url: string, scenario: Scenario, setting: LoadSetting, seconds: number, rawDir: string, inputs: LocustInputs): Promise<LoadRun> {
  const prefix = join(rawDir, `${scenario}-u${setting.users}`);
  const args = [
    LOCUST, '-f', LOCUSTFILE, '--headless', '--only-summary', '--host', url,
    '-u', String(setting.users), '-r', String(setting.spawnRate), '-t', `${seconds}s`, '--stop-timeout', '5',
    '--csv', prefix, '--csv-full-history', '--loglevel', 'WARNING', SCENARIOS[scenario].userClass,
  ];
  const env = {
    STRATUS_LOCUST_DIGITS: inputs.digitsFile,
    STRATUS_LOCUST_DRAWINGS: inputs.drawingsFile,
    STRATUS_LOCUST_WAIT: inputs.wait.join(','),
    STRATUS_LOCUST_FINAL: `${prefix}_final`,
  };
  const proc = children.spawn(args, { cwd: REPO, stdin: 'ignore', stdout: Bun.file(`${prefix}_output.txt`), stderr: 'pipe', env: { ...process.env, ...env } });
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  // Locust exits 1 when any request failed, which is a result here, not an error.
  const lastLine = stderr.trim().split('\n').at(-1) ?? '';
  await Bun.write(`${prefix}_stderr.txt`, stderr);
  if (code !== 0 && code !== 1) throw new Error(`locust exited with ${code}: ${lastLine}`);
  // Exit 1 is also how Locust fails to start (a broken locustfile): then the final totals are missing.
  if (!(await Bun.file(`${prefix}_final_stats.csv`).exists())) throw new Error(`locust exited with ${code} and wrote no totals: ${lastLine}`);
  const read = (suffix: string) => Bun.file(`${prefix}${suffix}`).text();
  const stats = parseStats(await read('_final_stats.csv'));
  const total = stats.find((row) => row.name === AGGREGATED);
  if (total === undefined) throw new Error('locust wrote no Aggregated row');
  // Locust's own end-of-run copies lag the run by up to a second; the _final ones above are exact.
  for (const stale of ['_stats.csv', '_failures.csv', '_exceptions.csv']) await rm(`${prefix}${stale}`, { force: true });
  // The input files are temporary: the report names them by what they hold (see LOCUST_INPUTS_NOTE).
  const shown = { ...env, STRATUS_LOCUST_DIGITS: '$DIGITS', STRATUS_LOCUST_DRAWINGS: '$DRAWINGS' };
  const command = [...Object.entries(shown).map(([k, v]) => `${k}=${relativeToRepo(v)}`), ...args.map(relativeToRepo)].map(shellWord).join(' ').replace(/'(STRATUS_LOCUST_\w+=\$\w+)'/g, '$1');
  return {
    ...setting,
    scenario,
    seconds,
    command,
    total,
    failures: parseFailures(await read('_final_failures.csv')),
    history: parseHistory(await read('_stats_history.csv')),
    locustCpuWarning: /CPU usage/i.test(stderr),
    files: ['_final_stats.csv', '_final_failures.csv', '_stats_history.csv', '_output.txt', '_stderr.txt'].map((s) => relativeToRepo(`${prefix}${s}`)),
  };
}
