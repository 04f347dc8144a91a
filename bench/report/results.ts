// What one run of bench/report.ts measured: written as results.json beside the report, and the only
// input of the report's text and charts (bench/report/markdown.ts).
import type { AbuseResults } from '../abuse.ts';
import type { FailoverResults } from '../failover.ts';
import type { InferenceResults } from '../inference.ts';
import type { PeersTrainingResults } from '../peers.ts';
import type { RetentionResults } from '../retention.ts';
import type { ServingResults } from '../serving-peers.ts';
import type { StoreScaleResults } from '../store-scale.ts';
import type { Baseline } from './baseline.ts';
import type { BenchRun } from './bench-script.ts';
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

/** The benches run beside the paper's experiments, each to its own section. */
export interface BenchResults {
  readonly 'peers-training': Outcome<BenchRun<PeersTrainingResults>>;
  readonly 'peers-inference': Outcome<BenchRun<InferenceResults>>;
  readonly 'peers-serving': Outcome<BenchRun<ServingResults>>;
  readonly failover: Outcome<BenchRun<FailoverResults>>;
  readonly abuse: Outcome<BenchRun<AbuseResults>>;
  readonly retention: Outcome<BenchRun<RetentionResults>>;
  readonly 'store-scale': Outcome<BenchRun<StoreScaleResults>>;
}

/** One line of the run's plan, for the report's header: what each experiment ran with, its budget, and
 * the minutes it was expected to take. */
export interface PlanLine {
  readonly experiment: string;
  readonly parameters: string;
  readonly budgetMinutes: number;
  readonly expectedMinutes: number;
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
  /** Absent in results written before the benches were part of the report. */
  readonly benches?: Partial<BenchResults>;
  readonly plan?: readonly PlanLine[];
}
