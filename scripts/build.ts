// Builds ./stratus: one self-contained executable (code, .wasm, model, htmx, leveldb addon, onnxruntime).
// Usage: bun run scripts/build.ts [--entry src/main.ts] [--outfile ./stratus]
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { BunPlugin } from 'bun';
import pkg from '../package.json' with { type: 'json' };

const root = resolve(import.meta.dir, '..');
const { values: opts } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    entry: { type: 'string', default: 'src/main.ts' },
    outfile: { type: 'string', default: 'stratus' },
  },
});
const entry = resolve(root, opts.entry);
const outfile = resolve(root, opts.outfile);

/** The prebuilt addon node-gyp-build would pick at run time, for the platform we compile for (the host). */
function prebuildFor(packageDir: string): string {
  const dir = join(packageDir, 'prebuilds', `${process.platform}-${process.arch}`);
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.node')) : [];
  // Prefer glibc: Bun's own linux builds are glibc, and musl addons don't load there.
  const pick = files.find((f) => f.includes('glibc')) ?? files.find((f) => !f.includes('musl')) ?? files[0];
  if (!pick) throw new Error(`no leveldown prebuild in ${dir}`);
  return join(dir, pick);
}

// leveldown loads its addon via node-gyp-build(__dirname), a run-time directory scan the bundler
// can't follow, so the .node file would be missing from the binary. A static require lets Bun
// embed it (and dlopen it from a temp copy at run time). pouchdb pulls in two leveldowns
// (its own 6.x and level's 5.x), hence a filter on any leveldown/binding.js.
const embedLeveldownAddon: BunPlugin = {
  name: 'embed-leveldown-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]leveldown[\\/]binding\.js$/ }, (args) => {
      const addon = prebuildFor(dirname(args.path));
      return { contents: `module.exports = require(${JSON.stringify(addon)});`, loader: 'js' };
    });
  },
};

// onnxruntime-node's addon Bun embeds by itself (its require names the file), but not libonnxruntime.so.1,
// which the addon loads from beside itself (RUNPATH $ORIGIN). This module, null under `bun run`, becomes
// one that carries the build host's library, for src/model/onnx/onnx-runtime.ts to write to disk and
// load before the addon. A platform without that file (macOS names it .dylib) builds a binary whose
// default engine falls back to wasm.
const embedOnnxRuntimeLibrary: BunPlugin = {
  name: 'embed-onnxruntime-library',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]embedded[\\/]onnxruntime-library\.ts$/ }, async () => {
      const fileName = 'libonnxruntime.so.1';
      const packageDir = dirname(Bun.resolveSync('onnxruntime-node/package.json', root));
      const library = join(packageDir, 'bin/napi-v6', process.platform, process.arch, fileName);
      if (!existsSync(library)) {
        console.warn(`build: no ${library}; the binary's default engine will be wasm`);
        return { contents: 'export const onnxRuntimeLibrary = null;', loader: 'js' };
      }
      const content = await Bun.file(library).bytes();
      const sha256 = new Bun.CryptoHasher('sha256').update(content).digest('hex');
      const described = `{ path, fileName: ${JSON.stringify(fileName)}, bytes: ${content.byteLength}, sha256: ${JSON.stringify(sha256)} }`;
      return {
        contents: `import path from ${JSON.stringify(library)} with { type: 'file' };\nexport const onnxRuntimeLibrary = ${described};\n`,
        loader: 'js',
      };
    });
  },
};

if (!existsSync(entry)) {
  console.error(`build: entry ${relative(root, entry)} does not exist`);
  process.exit(1);
}

const started = performance.now();
let result: Bun.BuildOutput;
try {
  result = await Bun.build({
    // Worker threads are entry points of their own: Bun does not discover them from `new Worker(...)`.
    entrypoints: [entry, resolve(root, 'src/inference-worker.ts'), resolve(root, 'src/store-worker.ts'), resolve(root, 'src/train-worker.ts'), resolve(root, 'src/preprocess-worker.ts')],
    target: 'bun',
    // tfjs registers its platform, kernels and backends as import side effects. Honouring the
    // packages' "sideEffects" fields, Bun 1.4.4 drops those modules anyway (tfjs-core's index and
    // platform_node, all but 7 cpu kernels) and the binary dies on `env().platform` undefined.
    ignoreDCEAnnotations: true,
    // No identifier minification: pouchdb keys its open-database cache by the adapter
    // constructor's .name, and `keepNames` does not preserve names in Bun 1.4.4 (LevelDOWN
    // became "An"). Whitespace + syntax is also what Elysia recommends for compiled servers.
    minify: { whitespace: true, syntax: true, identifiers: false },
    // The binary embeds the map, so stack traces point at src/*.ts; see the .map cleanup below.
    sourcemap: 'linked',
    // Precompiled bytecode roughly halves start-up (measured 315 -> 132 ms to --version);
    // ESM so that top-level await keeps working. Source stays embedded, so Elysia's
    // Function#toString-based handler analysis still sees real code.
    bytecode: true,
    format: 'esm',
    plugins: [embedLeveldownAddon, embedOnnxRuntimeLibrary],
    compile: {
      outfile,
      // The binary must behave the same wherever it is started; a stray bunfig.toml in the
      // working directory (the repo has one for tests) must not change it.
      autoloadBunfig: false,
      // Configuration comes from flags and the environment only; a .env file where the binary is
      // started must not inject settings (or credentials) behind the operator's back.
      autoloadDotenv: false,
    },
    throw: true,
  });
} catch (err) {
  console.error('build failed:');
  // AggregateError carries the bundler's individual log messages.
  const logs = err instanceof AggregateError ? err.errors : [err];
  for (const log of logs) console.error(log);
  process.exit(1);
}

const seconds = ((performance.now() - started) / 1000).toFixed(1);
// Bun also writes the (already embedded) map beside the binary; it is not needed to run it.
rmSync(`${outfile}.map`, { force: true });
for (const output of result.outputs) if (output.path.endsWith('.map')) rmSync(output.path, { force: true });
for (const log of result.logs) console.warn(log);
const bytes = statSync(outfile).size;
console.log(
  `built ${relative(root, outfile) || outfile} v${pkg.version} from ${relative(root, entry)}: ` +
    `${(bytes / 1024 / 1024).toFixed(1)} MiB in ${seconds}s`,
);
