// onnxruntime's shared library, for the compiled binary. Bun embeds onnxruntime-node's addon by itself and
// loads it from a temporary copy, but not libonnxruntime.so.1, which the addon finds through RUNPATH
// $ORIGIN, i.e. beside itself, where the temporary copy has nothing. scripts/build.ts replaces this module
// with one that carries the build host's library (a `type: 'file'` import, the file chosen by platform as
// leveldown's addon is). Under `bun run` and `bun test` it stays null: the addon finds the library
// beside it in node_modules.

export interface EmbeddedLibrary {
  /** Where the binary carries it: a /$bunfs/ path. */
  readonly path: string;
  /** The name the addon asks the dynamic linker for (the library's SONAME). */
  readonly fileName: string;
  readonly bytes: number;
  /** Of the content, hex: a copy on disk is named by what it holds. */
  readonly sha256: string;
}

export const onnxRuntimeLibrary: EmbeddedLibrary | null = null;
