// The drawing page's own files, carried inside the binary like src/embedded/assets.ts's (same rules:
// a `type: 'file'` import is a path on disk under `bun run`, a /$bunfs/ path in the binary).

// @ts-ignore -- plain browser script, imported only for its path
import padFile from '../views/static/pad.js' with { type: 'file' };
// @ts-ignore -- .css: no type declarations
import cssFile from '../views/static/page.css' with { type: 'file' };

export const pageAssets: { padJs: string; css: string } = {
  padJs: padFile as string,
  css: cssFile as string,
};
