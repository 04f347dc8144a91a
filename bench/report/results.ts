// What one run of bench/report.ts measured: written as results.json beside the report, and the only
// input of the report's text and charts (bench/report/markdown.ts).
import type { Baseline } from './baseline.ts';
import type { HandDrawnResult } from './hand-drawn.ts';
import type { LoadRun, Scenario } from './load-tests.ts';
import type { Machine } from './machine.ts';
import type { Outcome } from './outcome.ts';
import type { Recipe, TrainingRun } from './training.ts';

export interface LoadTests {
  readonly mode: 'local' | 'cluster';
  /** Starting the deployment: the commands, or why it could not be started. */
  readonly startup: Outcome<{ commands: string[] }>;
  /** The served model's reading of the POST scenarios' digits with no load, checked before the runs. */
  readonly baseline: Outcome<{ pixels: Baseline; drawing: Baseline }>;
  readonly runs: { readonly scenario: Scenario; readonly users: number; readonly spawnRate: number; readonly outcome: Outcome<LoadRun> }[];
}

export interface Results {
  /** The exact command line that produced this run. */
  readonly command: string;
  readonly quick: boolean;
  readonly startedAt: string;
  readonly totalSeconds: number;
  readonly machine: Machine;
  /** What stratus was run as: the sources under Bun, or a compiled binary. */
  readonly stratus: string;
  readonly loadSettings: { readonly seconds: number; readonly wait: readonly [number, number] };
  readonly load: LoadTests[];
  readonly handDrawn: Outcome<HandDrawnResult>;
  readonly training: { readonly recipe: Recipe; readonly workers: number; readonly outcome: Outcome<TrainingRun> }[];
}
