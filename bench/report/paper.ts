// The paper's own figures, to print beside ours. Only what the paper states; everything else is shown
// as "not given" rather than guessed.
export const PAPER = {
  training: { workers: 5, platform: 'Spark', seconds: 144, testAccuracy: 0.9745 },
  handDrawn: {
    digits: 100,
    accuracy: 0.74,
    /** Per-digit accuracy where the paper states it (7 and 8: 50 %); null: not given. */
    perDigit: [null, null, null, null, null, null, null, 0.5, 0.5, null] as readonly (number | null)[],
  },
  load: {
    /** The settings the report runs the paper's experiments at (users, spawn rate). The paper gives the
     * spawn rate at 10 and 50 users only; 3 at 25 users is ours. */
    settings: [
      { users: 10, spawnRate: 1 },
      { users: 25, spawnRate: 3 },
      { users: 50, spawnRate: 5 },
    ],
  },
} as const;

export const NOT_GIVEN = 'not given';

/** A count or a percentage as the paper words it: exact, "~" about, or "<" below. */
export interface Stated {
  readonly value: number;
  readonly qualifier: '' | '~' | '<';
}

/** One Locust run of the paper's: its method, users and what it reports. */
export interface PaperLoadFigure {
  readonly method: 'GET' | 'POST';
  readonly users: number;
  /** null: the paper does not give it. */
  readonly spawnRate: number | null;
  readonly requests: Stated;
  readonly failedPercent: Stated;
  /** Why its requests failed, where the paper says. */
  readonly failedAs?: string;
  readonly meanMs: number;
}

const exact = (value: number): Stated => ({ value, qualifier: '' });
const about = (value: number): Stated => ({ value, qualifier: '~' });

/** Every load figure the paper gives, scenario by scenario. POST at 50 users is not among them. */
export const PAPER_LOAD: readonly PaperLoadFigure[] = [
  { method: 'GET', users: 10, spawnRate: 1, requests: exact(1250), failedPercent: exact(0), meanMs: 2950 },
  { method: 'GET', users: 25, spawnRate: null, requests: about(1000), failedPercent: exact(3), meanMs: 7123 },
  { method: 'GET', users: 50, spawnRate: 5, requests: about(10_000), failedPercent: about(98), failedAs: 'HTTP 429', meanMs: 306 },
  { method: 'POST', users: 10, spawnRate: null, requests: about(1000), failedPercent: { value: 1, qualifier: '<' }, meanMs: 3040 },
  { method: 'POST', users: 25, spawnRate: null, requests: about(4300), failedPercent: exact(1), meanMs: 7412 },
];

/** The paper's figure for this method and number of users; null when it gives none. */
export function paperLoadFigure(method: 'GET' | 'POST', users: number): PaperLoadFigure | null {
  return PAPER_LOAD.find((f) => f.method === method && f.users === users) ?? null;
}

const stated = (s: Stated, unit = '') => `${s.qualifier === '<' ? '< ' : s.qualifier}${s.value.toLocaleString('en-US')}${unit}`;

/** "1,250 requests, 0 % failed, mean 2,950 ms (spawn rate 1)", for a table cell. */
export function describePaperLoad(figure: PaperLoadFigure): string {
  const failed = `${stated(figure.failedPercent, ' %')} failed${figure.failedAs ? ` (${figure.failedAs})` : ''}`;
  const spawn = figure.spawnRate === null ? `spawn rate ${NOT_GIVEN}` : `spawn rate ${figure.spawnRate}`;
  return `${stated(figure.requests)} requests, ${failed}, mean ${figure.meanMs.toLocaleString('en-US')} ms (${spawn})`;
}

/** The paper's cell beside one of our load runs: its figure, "not given" for a setting of the paper's
 * it reports nothing for, "not in the paper" for our larger settings. */
export function paperCellFor(method: 'GET' | 'POST', users: number): string {
  const figure = paperLoadFigure(method, users);
  if (figure !== null) return describePaperLoad(figure);
  return PAPER.load.settings.some((s) => s.users === users) ? NOT_GIVEN : 'not in the paper';
}
