// Data-parallel training across processes (--world-size N): N `stratus --role trainer` processes, one
// per rank, each training on its seeded shard of every epoch (the shards of ../parallel/shards.ts) and
// meeting rank 0 on the Transport every step (rank-link.ts). Rank 0 checkpoints to the Store after every
// epoch and, at start, hands every rank the job's latest checkpoint (resume.ts). Before anything is
// saved, every rank's weights must hash the same. Only rank 0 scores the hold-outs and writes the model
// directory; the others end when training does.
import type { Store } from '../../adapters/store/store.ts';
import type { Transport } from '../../adapters/transport/transport.ts';
import type { Logger } from '../../log.ts';
import { buildModel } from '../architectures.ts';
import { augmentFrom, rankEpochAugmentStream, workerDropoutStream } from '../augment-streams.ts';
import type { DataSplit } from '../data-split.ts';
import { fastAdam, setLearningRate } from '../fast-adam.ts';
import { gradientSource } from '../gradients.ts';
import { LocalScoring } from '../local-scoring.ts';
import type { PackagedModel } from '../package-model.ts';
import { shardedSamples, trainShard } from '../parallel/shards.ts';
import { paramLayout, readWeights } from '../params.ts';
import type { RanksSpread, TrainRecipe } from '../recipe.ts';
import type { EpochRecord } from '../report.ts';
import { addSums, trainSteps, type StepSums } from '../step-loop.ts';
import type { EpochPlan, Opening, Score, TestScore, TrainingStrategy } from '../strategy.ts';
import { initTrainingBackend } from '../training-backend.ts';
import { dropCheckpoints, saveCheckpoint } from './checkpoint.ts';
import { exchangeStep, type RankModel } from './exchange-step.ts';
import { defaultJobId } from './job-id.ts';
import { checksum, optimizerState } from './model-state.ts';
import { RankLink } from './rank-link.ts';
import { startFromCheckpoint } from './resume.ts';

/** What a rank needs besides its recipe. */
export interface RankServices {
  readonly transport: Transport;
  /** Where rank 0 keeps the checkpoints (the other ranks never touch it). */
  readonly store: Store;
  readonly logger?: Logger | undefined;
  readonly signal?: AbortSignal | undefined;
}

interface Joined extends RankModel {
  readonly link: RankLink;
  readonly split: DataSplit;
  readonly scoring: LocalScoring;
}

const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decodeJson = <T>(bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as T;

function sumFigures(payloads: Uint8Array[]): Uint8Array {
  return encodeJson(addSums(payloads.map((p) => decodeJson<StepSums>(p))));
}

function compareChecksums(payloads: Uint8Array[]): Uint8Array {
  const sums = payloads.map((p) => new TextDecoder().decode(p));
  const differing = sums.findIndex((s) => s !== sums[0]);
  return encodeJson(differing < 0 ? 'same' : `rank ${differing} ended with weights that differ from rank 0's (sha256 ${sums[differing]!.slice(0, 12)} vs ${sums[0]!.slice(0, 12)})`);
}

export class RanksStrategy implements TrainingStrategy {
  private readonly jobId: string;
  private joined: Joined | null = null;
  private firstEpoch = 0;

  constructor(
    private readonly recipe: TrainRecipe,
    private readonly spread: RanksSpread,
    private readonly services: RankServices,
  ) {
    if (recipe.initModel !== undefined) throw new Error('--init-model does not combine with --world-size yet');
    const { worldSize, sync, syncEvery } = spread;
    this.jobId = spread.jobId ?? defaultJobId({ ...recipe, worldSize, sync, syncEvery });
  }

  async open(split: DataSplit): Promise<Opening> {
    const { recipe, spread, jobId } = this;
    const { rank, worldSize } = spread;
    const { transport, store, logger } = this.services;
    logger?.info({ rank, worldSize, jobId, transport: transport.name }, 'joining the distributed training run');
    const backend = recipe.backend ?? 'wasm';
    await initTrainingBackend(backend);
    const samplesPerEpoch = shardedSamples(split.training.indices.length, worldSize, recipe.batchSize, 'rank');
    const model = buildModel(recipe.arch, recipe.seed);
    const optimizer = fastAdam(recipe.learningRate);
    const { slots, length } = paramLayout(model);
    const gradients = await gradientSource(backend, model, optimizer, workerDropoutStream(recipe.seed, rank), slots.map((s) => s.variable));
    const scoring = new LocalScoring(model, split);
    const { peerTimeoutMs } = spread;
    let link: RankLink;
    try {
      link = await RankLink.open({ transport, jobId, rank, worldSize, timeoutMs: peerTimeoutMs, startTimeoutMs: spread.startTimeoutMs ?? 5 * peerTimeoutMs });
    } catch (error) {
      await gradients.dispose();
      optimizer.dispose();
      model.dispose();
      throw error;
    }
    this.joined = { model, optimizer, gradients, slots, length, link, split, scoring };
    const resumed = await startFromCheckpoint(link, store, jobId, this.joined);
    this.firstEpoch = resumed?.epoch ?? 0;
    return { params: length, samplesPerEpoch, resumed };
  }

  async trainEpoch(plan: EpochPlan): Promise<StepSums> {
    const joined = this.need();
    const { rank, worldSize, sync, syncEvery } = this.spread;
    setLearningRate(joined.optimizer, plan.learningRate);
    const augment = plan.augment ? augmentFrom(rankEpochAugmentStream(this.recipe.seed, rank, plan.epoch)) : undefined;
    const { step, endEpoch } = exchangeStep(joined, joined.link, { epoch: plan.epoch, sync, syncEvery });
    const own = await trainSteps(joined.split.training.split, trainShard(plan.order, rank, worldSize), this.recipe.batchSize, step, {
      augment,
      signal: this.services.signal,
      onBatch: (progress) => plan.onBatch({ ...progress, samples: progress.samples * worldSize }),
    });
    await endEpoch();
    return decodeJson<StepSums>(await joined.link.round(`the figures of epoch ${plan.epoch + 1}`, encodeJson(own), sumFigures));
  }

  async validate(): Promise<Score | null> {
    return this.spread.rank === 0 ? this.need().scoring.validate() : null;
  }

  async afterEpoch(epochsDone: number, history: readonly EpochRecord[]): Promise<void> {
    const { optimizer, slots, length } = this.need();
    const weights = readWeights(slots, new Float32Array(length));
    const store = this.services.store;
    await saveCheckpoint(store, { jobId: this.jobId, epoch: epochsDone, params: length, weights, optimizer: await optimizerState(optimizer, slots, length), history });
    // Only the newest is ever resumed from: the ones before it are dead weight (a model's worth each).
    await dropCheckpoints(store, this.jobId, (epoch) => epoch < epochsDone);
  }

  async finished(): Promise<void> {
    if (this.spread.rank === 0 && !this.spread.keepCheckpoints) await dropCheckpoints(this.services.store, this.jobId, () => true);
  }

  /** Cheap insurance: the model rank 0 saves is the one every rank holds, to the bit. */
  async agree(): Promise<boolean> {
    const { link, slots, length } = this.need();
    const { rank } = this.spread;
    const weights = readWeights(slots, new Float32Array(length));
    const digest = checksum(weights);
    const verdict = decodeJson<string>(await link.round('the final checksum', new TextEncoder().encode(digest), compareChecksums));
    if (verdict !== 'same') throw new Error(verdict);
    // Logged by every rank: the same digest in every rank's log is the proof, outside the run, that they agree.
    this.services.logger?.info({ rank, sha256: digest }, 'every rank holds the same weights');
    this.spread.onWeights?.(weights);
    return rank === 0;
  }

  async scoreTest(): Promise<TestScore> {
    return this.need().scoring.scoreTest();
  }

  packageModel(tested: TestScore): Promise<PackagedModel> {
    return this.need().scoring.packageModel(tested);
  }

  reportExtras(): object {
    const { worldSize, sync, syncEvery } = this.spread;
    return { distributed: { worldSize, jobId: this.jobId, sync, syncEvery: sync === 'weights' ? syncEvery : null, resumedFromEpoch: this.firstEpoch } };
  }

  async fail(error: unknown): Promise<void> {
    await this.joined?.link.abort(error);
  }

  async close(): Promise<void> {
    const joined = this.joined;
    if (!joined) return;
    await joined.link.close();
    await joined.gradients.dispose();
    joined.optimizer.dispose();
    joined.model.dispose();
  }

  private need(): Joined {
    if (!this.joined) throw new Error('rank: open first');
    return this.joined;
  }
}
