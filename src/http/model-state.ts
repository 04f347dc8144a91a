// Where a stored model version stands, told from what the consumers say (their announcements reach the
// gateway) and what the registry selected: the one truth the API and the dashboard both show.
import { retry } from '../flow/retry.ts';
import type { Gateway } from './gateway.ts';

export type ModelState = 'serving' | 'loading' | 'refused' | 'stored';

export interface VersionState {
  readonly state: ModelState;
  /** Why it was refused. */
  readonly reason?: string;
}

/** What the state is read from: the gateway's ears and the registry's choice. */
export type StateSource = Pick<Gateway, 'modelVersion' | 'refusalOf'>;

export function stateOf(version: string, selected: string | null, gateway: StateSource): VersionState {
  if (version === gateway.modelVersion) return { state: 'serving' };
  const refusal = gateway.refusalOf(version);
  if (refusal) return { state: 'refused', reason: `${refusal.outcome}: ${refusal.reason}` };
  return { state: version === selected ? 'loading' : 'stored' };
}

/** A consumer loads and smoke-checks a version in about a second; past this, the answer says 'loading'. */
const SETTLE = Object.freeze({ firstDelayMs: 50, maxDelayMs: 50, budgetMs: 10_000 });

/** The state of a version just selected, once the consumers have served or refused it (or the wait ends). */
export async function settledState(version: string, gateway: StateSource): Promise<VersionState> {
  const settled = async () => {
    const current = stateOf(version, version, gateway);
    if (current.state === 'loading') throw new Error(`${version} is still loading`);
    return current;
  };
  return retry(settled, SETTLE).catch(() => stateOf(version, version, gateway));
}
