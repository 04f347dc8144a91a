// Data-parallel training across processes on a real Kafka (src/train/distributed/ranks.ts): two `stratus --role
// trainer` processes, ranks 0 and 1, as a Kubernetes Indexed Job runs them. They must end with the same
// weights (hashed here from the files rank 0 wrote; each rank's logged sha256 must be that hash); a rank
// killed mid-run must make the other exit non-zero with one line naming it, within the peer timeout; and
// the pair restarted must resume.
import { afterAll, describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kafkaBrokers } from '../../helpers/cluster-services.ts';
import { MNIST_DIR } from '../../helpers/data.ts';
import { childEnv, MAIN, REPO } from '../../helpers/process.ts';
import { waitFor } from '../../helpers/wait.ts';

const brokers = await kafkaBrokers();
const dir = mkdtempSync(join(tmpdir(), 'stratus-distributed-kafka-'));
const started: Bun.Subprocess[] = [];
afterAll(() => {
  for (const proc of started) if (proc.exitCode === null) proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Rank {
  readonly proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Everything the process printed so far, read as it comes. */
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<number>;
}

// Smaller runs than users train (seed arch, batches of 32 rather than 64, a few hundred samples): the
// question is whether the ranks agree and fail together, which a small run answers as well.
function startRank(rank: number, jobId: string, extra: string[]): Rank {
  const args = ['--role', 'trainer', '--transport', 'kafka', '--kafka-brokers', brokers!.join(','), '--store', 'memory', '--port', '0', '--log-level', 'info',
    '--rank', String(rank), '--world-size', '2', '--job-id', jobId, '--arch', 'seed', '--batch-size', '32', '--seed', '7',
    '--mnist-dir', MNIST_DIR, '--out', join(dir, jobId, `rank${rank}`), ...extra];
  const proc = Bun.spawn(['bun', MAIN, ...args], { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: childEnv() });
  started.push(proc);
  const out = { stdout: '', stderr: '' };
  const drain = async (stream: ReadableStream<Uint8Array>, key: 'stdout' | 'stderr') => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) out[key] += decoder.decode(read.value, { stream: true });
  };
  const drained = Promise.all([drain(proc.stdout, 'stdout'), drain(proc.stderr, 'stderr')]);
  return { proc, out, exited: drained.then(() => proc.exited) };
}

// kafkajs sets a timer from a timestamp difference that Bun reports as negative; a warning that is not ours.
const KAFKAJS_TIMER_WARNING = /TimeoutNegativeWarning|^Timeout duration was set to|^\(Use `bun --trace-warnings/;
const ownLines = (stderr: string) => stderr.split('\n').filter((line) => line.trim() !== '' && !KAFKAJS_TIMER_WARNING.test(line));

const digestOf = (stdout: string) => stdout.split('\n').filter((l) => l.includes('every rank holds the same weights')).map((l) => JSON.parse(l).sha256 as string);

/**
 * sha256 of the weights rank 0 wrote, computed here rather than taken from the run's log: weights.bin
 * holds the trainable weights as float32 in the model's order (the seed arch has no others), the bytes
 * each rank's own checksum covers. Rank 1 writes no files (only rank 0 saves the model, and the runtime
 * gives other ranks an in-memory store, so not even a checkpoint), so its side is the digest it logs:
 * held to this hash, a log line cannot agree with itself.
 */
const writtenDigest = (out: string) => createHash('sha256').update(new Uint8Array(readFileSync(join(out, 'weights.bin')))).digest('hex');

if (!brokers) {
  test.skip('distributed training over Kafka (no Kafka on this machine: see the warning above)', () => {});
} else {
  describe('distributed training over a real Kafka', () => {
    test('two trainer processes train one model: the same weights in both, the model from rank 0', async () => {
      const jobId = `kafka-${crypto.randomUUID()}`;
      const ranks = [0, 1].map((rank) => startRank(rank, jobId, ['--epochs', '1', '--max-samples', '640', '--peer-timeout-ms', '60000']));
      const codes = await Promise.all(ranks.map((r) => r.exited));
      expect({ codes, stderr: ranks.map((r) => ownLines(r.out.stderr)) }).toEqual({ codes: [0, 0], stderr: [[], []] });
      const written = writtenDigest(join(dir, jobId, 'rank0'));
      expect(ranks.map((r) => digestOf(r.out.stdout))).toEqual([[written], [written]]);
      const meta = JSON.parse(readFileSync(join(dir, jobId, 'rank0', 'metadata.json'), 'utf8'));
      expect(meta.testAccuracy).toBeGreaterThan(0.5);
      const report = JSON.parse(readFileSync(join(dir, jobId, 'rank0', 'report.json'), 'utf8'));
      expect(report.distributed).toMatchObject({ worldSize: 2, jobId, sync: 'gradients' });
      expect(existsSync(join(dir, jobId, 'rank1', 'model.json'))).toBe(false);
    }, 170_000);

    test('a rank killed mid-run makes the other exit 1 with one line naming it; restarted, they resume', async () => {
      const jobId = `kafka-dead-${crypto.randomUUID()}`;
      // 10 s rather than the default 60 s: the test waits out the dead rank's timeout, whatever its length.
      const peerTimeoutMs = 10_000;
      // Rank 0 keeps its checkpoints on disk, as CouchDB would keep them across pods.
      const argsOf = (rank: number) => ['--epochs', '2', '--max-samples', '1280', '--peer-timeout-ms', String(peerTimeoutMs),
        ...(rank === 0 ? ['--store', 'pouchdb', '--data-dir', join(dir, jobId, 'store')] : [])];
      const ranks = [0, 1].map((rank) => startRank(rank, jobId, argsOf(rank)));
      // Once rank 0 has finished epoch 1 (and checkpoints it), both are deep in the exchange.
      await waitFor(() => ranks[0]!.out.stdout.includes('epoch finished') || ranks[0]!.proc.exitCode !== null, 150_000, 100);
      ranks[1]!.proc.kill('SIGKILL');
      const code = await ranks[0]!.exited;
      expect(code).toBe(1);
      const lines = ownLines(ranks[0]!.out.stderr);
      expect(lines).toHaveLength(1);
      // What ended rank 0's wait, in its own words: its deadline (a share of --peer-timeout-ms), not
      // anything slower; no stopwatch needed.
      expect(lines[0]).toMatch(/^stratus: training failed: rank 0 waited 8 s at epoch 2 step \d+ for rank 1: it stalled or died$/);

      // As Kubernetes restarts the Job's pods: the same job, the topics as the first attempt left them.
      const again = [0, 1].map((rank) => startRank(rank, jobId, argsOf(rank)));
      const codes = await Promise.all(again.map((r) => r.exited));
      expect({ codes, stderr: again.map((r) => ownLines(r.out.stderr)) }).toEqual({ codes: [0, 0], stderr: [[], []] });
      const written = writtenDigest(join(dir, jobId, 'rank0'));
      expect(again.map((r) => digestOf(r.out.stdout))).toEqual([[written], [written]]);
      const report = JSON.parse(readFileSync(join(dir, jobId, 'rank0', 'report.json'), 'utf8'));
      expect(report.distributed.resumedFromEpoch).toBe(1);
      expect(report.history).toHaveLength(2);
    }, 170_000);
  });
}
