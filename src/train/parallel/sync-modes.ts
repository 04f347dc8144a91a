// How the workers of a data-parallel run keep one model (see synced-optimizer.ts). Its own module so
// that src/config.ts can name the choices without loading tfjs.
export const SYNC_MODES = ['gradients', 'weights'] as const;
export type SyncMode = (typeof SYNC_MODES)[number];
