// The architecture names alone, without tfjs: the config parser checks --arch against them, and
// importing architectures.ts there would load tfjs into every role's main thread.
export const ARCHS = ['seed', 'default', 'compact', 'lean'] as const;
export type ArchName = (typeof ARCHS)[number];

export function isArchName(name: string): name is ArchName {
  return (ARCHS as readonly string[]).includes(name);
}
