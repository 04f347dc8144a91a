// `stratus evaluate`: scores a model (a --model directory, or the embedded one) on the 10,000 MNIST test
// digits through the classifier the consumer serves with (ONNX Runtime by default, tfjs with --backend
// wasm|tensorflow), so the figure is the served model's.
import { Classifier } from '../model/classifier.ts';
import type { EngineModel } from '../model/engines.ts';
import { loadOnEngine } from '../model/load-on-engine.ts';
import { readEmbeddedModel, readModelDirectory } from '../model/model-source.ts';
import type { TrainingBackend } from './backend-names.ts';
import { chooseTrainingBackend, initTrainingBackend } from './training-backend.ts';
import { VERSION } from '../version.ts';
import { loadSplit } from './mnist.ts';
import { downloadMnist } from './mnist-download.ts';
import { formatMetrics, testMetrics, type EvaluationReport } from './report.ts';

const CHUNK = 1000;

/** The command's flags (a Config has them all, under these names). */
export interface EvaluateOptions {
  readonly mnistDir: string;
  /** Fetch the MNIST files that mnistDir lacks from mnistUrl first (--download). */
  readonly download: boolean;
  readonly mnistUrl: string;
  /** A model directory; null scores the embedded model. */
  readonly model: string | null;
  /** Null: onnx where ONNX Runtime loads, else wasm. */
  readonly backend: TrainingBackend | null;
}

export async function evaluateModel(mnistDir: string, modelDir: string | null, requested: TrainingBackend | null = null): Promise<EvaluationReport> {
  const started = performance.now();
  const { backend, fallbackReason } = await chooseTrainingBackend(requested);
  if (fallbackReason) process.stderr.write(`stratus: scoring on tfjs wasm: ${fallbackReason}\n`);
  await initTrainingBackend(backend);
  const source = modelDir ? await readModelDirectory(modelDir) : await readEmbeddedModel();
  // The test split only: loading the 60k training images would double the run for nothing.
  const checksums: Record<string, string> = {};
  const test = loadSplit(mnistDir, 'test', checksums);
  const classifier: EngineModel = backend === 'onnx' ? await loadOnEngine('onnx', source) : await Classifier.load(source);
  try {
    const predicted = new Uint8Array(test.count);
    let lossSum = 0;
    for (let from = 0; from < test.count; from += CHUNK) {
      const count = Math.min(CHUNK, test.count - from);
      const probabilities = await classifier.predict(test.images.subarray(from * 784, (from + count) * 784), count);
      for (let i = 0; i < count; i++) {
        let best = 0;
        for (let d = 1; d < 10; d++) if (probabilities[i * 10 + d]! > probabilities[i * 10 + best]!) best = d;
        predicted[from + i] = best;
        // Clipped like tfjs' categoricalCrossentropy, so this loss compares with report.json's.
        lossSum -= Math.log(Math.min(1 - 1e-7, Math.max(1e-7, probabilities[i * 10 + test.labels[from + i]!]!)));
      }
    }
    return {
      kind: 'stratus-evaluation',
      codeVersion: VERSION,
      model: { version: source.version, source: modelDir ?? 'embedded' },
      backend,
      data: { md5: checksums },
      ...testMetrics(test.labels, predicted, lossSum / test.count),
      seconds: +((performance.now() - started) / 1000).toFixed(3),
    };
  } finally {
    await classifier.dispose();
  }
}

/** The command: prints the metrics (a table, or JSON with `json`) and returns the exit code. */
export async function runEvaluate(options: EvaluateOptions, json: boolean): Promise<number> {
  try {
    if (options.download) {
      // The test split only: scoring reads nothing else.
      await downloadMnist(options.mnistDir, options.mnistUrl, (file, bytes) => process.stderr.write(`stratus: downloaded ${file} (${bytes} bytes)\n`), ['test']);
    }
    const report = await evaluateModel(options.mnistDir, options.model, options.backend);
    const text = json
      ? `${JSON.stringify(report, null, 2)}\n`
      : `${formatMetrics(report, `model ${report.model.version} (${report.model.source}), ${report.testSamples} MNIST test digits on ${report.backend}, ${report.seconds.toFixed(1)} s`)}`;
    await new Promise<void>((resolve) => process.stdout.write(text, () => resolve()));
    return 0;
  } catch (error) {
    process.stderr.write(`stratus: evaluate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
