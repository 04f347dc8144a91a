// The benches the report runs beside the paper's experiments, and at what size: each bench's flags for the
// full run (sized so that, with the paper's experiments, a run takes under 45 minutes on a 2-core
// machine) and for --quick (a smoke run: the smallest sizes that still exercise every figure), with each
// one's time budget and the minutes it is expected to take. The times assume the Python peers' venvs
// (.tmp/peers-*-venv) exist: their first install from PyPI, some minutes, comes on top.
export const BENCH_EXPERIMENTS = ['peers-training', 'peers-inference', 'peers-serving', 'failover', 'abuse', 'retention', 'store-scale'] as const;
export type BenchExperiment = (typeof BENCH_EXPERIMENTS)[number];

/** Names --only takes for a group of experiments. */
export const EXPERIMENT_GROUPS: Record<string, readonly BenchExperiment[]> = {
  peers: ['peers-training', 'peers-inference', 'peers-serving'],
  storage: ['retention', 'store-scale'],
};

export interface BenchPlan {
  readonly script: string;
  readonly args: readonly string[];
  readonly budgetMinutes: number;
  /** What it took, or is expected to take, on the 2-core machine the report is made on (the full run of
   * 2026-12-06 for the full plan). */
  readonly expectedMinutes: number;
}

export function benchPlans(quick: boolean, mnist: string, binary: string | undefined): Record<BenchExperiment, BenchPlan> {
  const withBinary = binary === undefined ? [] : ['--binary', binary];
  if (quick) {
    // Expected: what the quick runs of 2026-12-06 took on a busy 2-core machine (load average 3–5).
    return {
      'peers-training': { script: 'bench/peers.ts', args: ['--parts', 'training', '--rounds', '1', '--epochs', '1', '--max-samples', '2000', '--workers', '2', '--mnist', mnist], budgetMinutes: 10, expectedMinutes: 0.5 },
      'peers-inference': { script: 'bench/inference.ts', args: ['--peer', '--rounds', '1', '--batches', '1,64', '--seconds', '1'], budgetMinutes: 4, expectedMinutes: 0.3 },
      'peers-serving': { script: 'bench/serving-peers.ts', args: ['--rounds', '1', '--seconds', '2', '--connections', '16,64', '--mnist', mnist, ...withBinary], budgetMinutes: 6, expectedMinutes: 0.9 },
      failover: { script: 'bench/failover.ts', args: ['--rate', '50', '--before', '3', '--after', '4', '--warmup', '3', '--settle', '2', '--scenarios', 'none,consumer-kill'], budgetMinutes: 6, expectedMinutes: 0.7 },
      abuse: { script: 'bench/abuse.ts', args: ['--seconds', '2', '--mnist', mnist, ...withBinary], budgetMinutes: 3, expectedMinutes: 0.2 },
      retention: { script: 'bench/retention.ts', args: ['--seconds', '10', '--rate', '200', '--clients', '16', '--pairs', '1', '--warmup', '1', '--before', '4', '--after', '8', '--settle', '1'], budgetMinutes: 3, expectedMinutes: 0.4 },
      'store-scale': { script: 'bench/store-scale.ts', args: ['--count', '5000', '--reads', '100', '--sessions', '1000'], budgetMinutes: 3, expectedMinutes: 0.1 },
    };
  }
  return {
    // Two epochs a run: the rate, CPU per sample and an accuracy past the first epoch's; 10 epochs take ~20
    // min, ~2 min an epoch for the four runs. Each contender's start (TensorFlow's import, Spark's JVM) is
    // ~5–10 s of its wall time.
    'peers-training': { script: 'bench/peers.ts', args: ['--parts', 'training', '--rounds', '2', '--epochs', '2', '--workers', '2', '--mnist', mnist], budgetMinutes: 9, expectedMinutes: 1.9 },
    'peers-inference': { script: 'bench/inference.ts', args: ['--peer', '--rounds', '2', '--batches', '1,64,256', '--seconds', '2'], budgetMinutes: 3, expectedMinutes: 0.6 },
    // BentoML takes ~20 s to start: 2 rounds × 2 servers × (start + 2 s warm-up + 2 runs of 6 s).
    'peers-serving': { script: 'bench/serving-peers.ts', args: ['--rounds', '2', '--seconds', '6', '--connections', '64,1000', '--mnist', mnist, ...withBinary], budgetMinutes: 5, expectedMinutes: 1.1 },
    // Every fault the bench has: the cluster starts in under a minute, then ~30 s a fault. 14 s after it
    // covers the hung consumer's 10 s session and the group's rebalance after it.
    failover: {
      script: 'bench/failover.ts',
      args: ['--rate', '200', '--before', '5', '--after', '14', '--warmup', '10', '--settle', '8', '--scenarios', 'none,consumer-kill,consumer-restart,consumer-hang,gateway-kill,couchdb-restart,broker-kill,controller-kill'],
      budgetMinutes: 9,
      expectedMinutes: 4.1,
    },
    abuse: { script: 'bench/abuse.ts', args: ['--seconds', '8', '--mnist', mnist, ...withBinary], budgetMinutes: 3, expectedMinutes: 0.6 },
    // The window before expiry starts at 3 s: in the first seconds the server is still warming up (p99 ~500
    // ms in both runs of 2026-12-06), which made the before/after ratio say nothing.
    retention: { script: 'bench/retention.ts', args: ['--seconds', '20', '--pairs', '1', '--warmup', '3', '--before', '7', '--after', '9', '--settle', '5'], budgetMinutes: 3, expectedMinutes: 0.9 },
    // 200,000 predictions a store: ~15 s of writes each at ~15,000/s, then the reads and the expiry. The
    // rate's end-to-start ratio means less than at 10 million (docs/storage.md), bytes per prediction as much.
    'store-scale': { script: 'bench/store-scale.ts', args: ['--count', '200000', '--reads', '1000'], budgetMinutes: 4, expectedMinutes: 0.5 },
  };
}
