// How many of the load tests' digits the served model reads right with no load: a POST scenario's
// failures up to that rate are the model's misreadings, not the deployment giving way.
import type { LabelledBody } from './load-data.ts';

export interface Baseline {
  readonly right: number;
  readonly total: number;
  /** The model versions that answered (every answer names one): the report names the model it measured. */
  readonly models?: readonly string[];
}

/** Each body POSTed once to /api/predict, `concurrency` at a time; a non-200 answer counts as wrong. */
export async function servedAccuracy(url: string, bodies: readonly LabelledBody[], concurrency = 4): Promise<Baseline> {
  let next = 0;
  let right = 0;
  const models = new Set<string>();
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const { label, body } = bodies[i]!;
      const response = await fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const answer = response.ok ? ((await response.json()) as { digit?: unknown; model?: { version?: unknown } }) : undefined;
      if (typeof answer?.model?.version === 'string') models.add(answer.model.version);
      if (answer?.digit === label) right++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { right, total: bodies.length, models: [...models].sort() };
}
