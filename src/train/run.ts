// src/train/ trains digit models: from the MNIST files (and users' labelled feedback) to a model
// directory that `--model DIR` serves, on one thread, on worker threads (parallel/) or as one rank of
// several processes (distributed/); and it scores models (`stratus evaluate`, evaluate.ts).
// It may import tfjs, node:, src/model/ (the served model's code), src/adapters/ (Transport and Store,
// for ranks), src/flow/, src/log.ts, src/version.ts, src/workers.ts and src/worker-calls.ts. It never
// imports src/actors/, src/http/, src/config.ts, src/runtime.ts or src/main.ts: callers describe a run as
// a TrainRecipe (recipe.ts) and hand in what it needs as TrainServices.
//
// This file is the one entry: it picks the strategy for the recipe's spread and runs it through the one
// epoch loop (epoch-loop.ts) and the one finish (finish.ts).
import type { Store } from '../adapters/store/store.ts';
import type { Transport } from '../adapters/transport/transport.ts';
import type { Logger } from '../log.ts';
import { splitTrainingData } from './data-split.ts';
import { RanksStrategy } from './distributed/ranks.ts';
import { runEpochs } from './epoch-loop.ts';
import type { TrainLog } from './events.ts';
import { finishRun } from './finish.ts';
import { OneThreadStrategy } from './one-thread.ts';
import { WorkerThreadsStrategy } from './parallel/worker-threads.ts';
import type { TrainRecipe } from './recipe.ts';
import { trainingTargets } from './soft-targets.ts';
import type { TrainResult } from './run-records.ts';
import type { TrainingStrategy } from './strategy.ts';

export interface TrainServices {
  /** Ranks only: the Transport they meet on and the Store rank 0 keeps its checkpoints in. */
  readonly transport?: Transport;
  readonly store?: Store;
  /** Ranks only: each logs joining the run and the digest of the weights every rank agreed on. */
  readonly logger?: Logger;
  /** Aborting stops the run between two batches; it then rejects and writes nothing. */
  readonly signal?: AbortSignal;
}

/** The run's result once the model directory is written; null on a rank other than 0, which writes none. */
export async function runTraining(recipe: TrainRecipe, services: TrainServices, log: TrainLog): Promise<TrainResult | null> {
  const wallStarted = performance.now();
  const strategy = strategyFor(recipe, services);
  const { signal } = services;
  try {
    // The same seed gives the same hold-out and epoch orders, whatever the spread.
    const split = splitTrainingData(recipe);
    const targets = await trainingTargets(split.training.split, recipe);
    if (targets) split.training.split.targets = targets;
    const opening = await strategy.open(split);
    const { arch, epochs, batchSize } = recipe;
    log({ kind: 'start', arch, params: opening.params, trainSamples: opening.samplesPerEpoch, validationSamples: split.validationCount, epochs, batchSize });
    const trained = await runEpochs(strategy, { recipe, split, opening, signal }, log);
    if (!(await strategy.agree())) return null;
    const result = await finishRun(strategy, { recipe, split, opening, trained, wallStarted, signal }, log);
    await strategy.finished?.();
    return result;
  } catch (error) {
    await strategy.fail?.(error);
    throw error;
  } finally {
    await strategy.close();
  }
}

function strategyFor(recipe: TrainRecipe, services: TrainServices): TrainingStrategy {
  const spread = recipe.spread ?? { kind: 'one-thread' };
  switch (spread.kind) {
    case 'one-thread':
      return new OneThreadStrategy(recipe, services.signal);
    case 'worker-threads':
      return new WorkerThreadsStrategy(recipe, spread, services.signal);
    case 'ranks': {
      const { transport, store } = services;
      if (!transport || !store) throw new Error('a rank of a distributed run needs a Transport and a Store');
      return new RanksStrategy(recipe, spread, { ...services, transport, store });
    }
  }
}
