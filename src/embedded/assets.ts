// Every file that must travel inside the compiled binary is imported here with `type: 'file'` (but for the
// page's own files, page-assets.ts, and onnxruntime's library, onnxruntime-library.ts, chosen by platform).
// Under `bun run` each import is the file's absolute path on disk; in the binary it is a
// /$bunfs/... path. Both work with Bun.file() and node:fs.
// TypeScript has no module types for these extensions (and types .json as its content), hence
// the ignores/casts; Bun's bundler is what gives them meaning.

// @ts-ignore -- .wasm: no type declarations
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm' with { type: 'file' };
// @ts-ignore -- .wasm: no type declarations
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm' with { type: 'file' };
// @ts-ignore -- .wasm: no type declarations
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm' with { type: 'file' };
import modelJsonFile from '../../models/embedded/model.json' with { type: 'file' };
// @ts-ignore -- .bin: no type declarations
import weightsBinFile from '../../models/embedded/weights.bin' with { type: 'file' };
import metadataJsonFile from '../../models/embedded/metadata.json' with { type: 'file' };
import reportJsonFile from '../../models/embedded/report.json' with { type: 'file' };
// @ts-ignore -- untyped JS, imported only for its path
import htmxFile from 'htmx.org/dist/htmx.min.js' with { type: 'file' };

export type WasmFileName = 'tfjs-backend-wasm.wasm' | 'tfjs-backend-wasm-simd.wasm' | 'tfjs-backend-wasm-threaded-simd.wasm';

export const wasmPaths: Record<WasmFileName, string> = {
  'tfjs-backend-wasm.wasm': wasmPlain as string,
  'tfjs-backend-wasm-simd.wasm': wasmSimd as string,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd as string,
};

/** The embedded model's directory, file by file: what a trainer writes to --out. */
export const defaultModel: { modelJson: string; weightsBin: string; metadataJson: string; reportJson: string } = {
  modelJson: modelJsonFile as unknown as string,
  weightsBin: weightsBinFile as string,
  metadataJson: metadataJsonFile as unknown as string,
  reportJson: reportJsonFile as unknown as string,
};

export const htmxJs: string = htmxFile as string;
