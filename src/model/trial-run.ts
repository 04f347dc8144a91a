// `stratus model trial --model DIR`: the child side of a trial load (model-trial.ts, which watches its
// memory). Load the directory's model on the engine consumers serve on, and have it answer the smoke
// digits with ten probabilities each. Exit 0 with one JSON line; else exit 1 with one line saying why.
import { chooseEngine } from './engine-choice.ts';
import { loadOnEngine } from './load-on-engine.ts';
import { readModelDirectory } from './model-source.ts';
import { smokeAnswers } from './smoke-check.ts';

export async function runTrial(directory: string): Promise<number> {
  try {
    const [source, { engine }] = await Promise.all([readModelDirectory(directory), chooseEngine(null)]);
    const model = await loadOnEngine(engine, source);
    const correct = await smokeAnswers(model);
    await model.dispose();
    process.stdout.write(`${JSON.stringify({ version: source.version, engine, smokeCorrect: correct })}\n`);
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`stratus: model trial failed: ${message.split('\n')[0]}\n`);
    return 1;
  }
}
