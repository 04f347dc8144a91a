// What names one distributed run: its job id (topics and checkpoints hang off it) and its two topics.
import { createHash } from 'node:crypto';

export interface JobRecipe {
  readonly arch: string;
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly maxSamples: number | null;
  readonly learningRate: number;
  readonly worldSize: number;
  readonly sync: string;
  readonly syncEvery: number;
}

/**
 * Without --job-id, the recipe names the job: a Kubernetes Job restarted after a crash runs with the same
 * flags, so it finds its own checkpoints; a different recipe never resumes from another's. (The k8s
 * manifest passes the Job's uid instead, so a new Job with the same recipe starts afresh.)
 */
export function defaultJobId(recipe: JobRecipe): string {
  const { arch, seed, epochs, batchSize, maxSamples, learningRate, worldSize, sync, syncEvery } = recipe;
  const text = JSON.stringify([arch, seed, epochs, batchSize, maxSamples, learningRate, worldSize, sync, sync === 'weights' ? syncEvery : 0]);
  return `${arch}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
}

/** Kafka topic names allow [a-zA-Z0-9._-]; anything else in a job id becomes '_'. */
export function jobTopics(jobId: string): { up: string; down: string } {
  const safe = jobId.replace(/[^a-zA-Z0-9._-]/g, '_');
  return { up: `stratus.train.${safe}.up`, down: `stratus.train.${safe}.down` };
}
