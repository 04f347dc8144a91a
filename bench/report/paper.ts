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
    /** The paper's three settings (users, spawn rate). */
    settings: [
      { users: 10, spawnRate: 1 },
      { users: 25, spawnRate: 3 },
      { users: 50, spawnRate: 5 },
    ],
    /** "mean response ~3 s at 10 users" */
    meanResponseMsAt10Users: 3000,
    /** "98 % failed requests at 50 users" */
    failedFractionAt50Users: 0.98,
  },
} as const;

export const NOT_GIVEN = 'not given';
