// Runs the training graph (training-graph.ts) in ONNX Runtime for every batch: the weights are read from
// the tfjs variables, the gradients come back as tfjs tensors, and the optimizer applies them as it would
// tfjs's own. One thread per session: training spreads over cores with --workers, one session each.
import * as tf from '@tensorflow/tfjs';
import type * as Ort from 'onnxruntime-node';
import { loadOnnxRuntime, type OnnxRuntime } from '../../model/onnx/onnx-runtime.ts';
import { paramLayout, readWeights, type ParamSlot } from '../params.ts';
import type { Batch } from '../step-loop.ts';
import type { GradientSource, StepGradients } from '../gradient-source.ts';
import { buildTrainingGraph, STEP_IMAGES, STEP_LABELS, STEP_LOSS, STEP_PREDICTED, type TrainingGraph } from './training-graph.ts';

export class OnnxGradients implements GradientSource {
  /** One copy of the weights, rewritten from the model before every step. */
  private readonly weights: Float32Array;
  /** The graph's weight inputs: views on `weights`, made once, matched to the variables by name. */
  private readonly weightFeeds: Record<string, Ort.Tensor> = {};

  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: Ort.InferenceSession,
    private readonly graph: TrainingGraph,
    private readonly slots: readonly ParamSlot[],
    length: number,
    /** Draws the dropout masks: seeded by the caller, so that a run replays. */
    private readonly random: () => number,
  ) {
    this.weights = new Float32Array(length);
    for (const port of graph.weights) {
      const slot = slots.find((s) => s.variable.name === port.variable);
      if (!slot) throw new Error(`internal: the training graph's weight ${port.variable} is not a trainable variable`);
      this.weightFeeds[port.input] = new ort.Tensor('float32', this.weights.subarray(slot.offset, slot.offset + slot.size), port.shape);
    }
  }

  /** Throws UntrainableOnOnnxError when the model has a layer the graph does not cover. */
  static async create(model: tf.LayersModel, random: () => number): Promise<OnnxGradients> {
    const graph = buildTrainingGraph(model);
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(graph.bytes, {
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    const { slots, length } = paramLayout(model);
    return new OnnxGradients(ort, session, graph, slots, length, random);
  }

  async compute(batch: Batch, wantPredicted: boolean): Promise<StepGradients> {
    const { ort, graph } = this;
    const size = batch.x.shape[0];
    readWeights(this.slots, this.weights);
    const feeds: Record<string, Ort.Tensor> = {
      ...this.weightFeeds,
      [STEP_IMAGES]: new ort.Tensor('float32', batch.x.dataSync() as Float32Array, batch.x.shape),
      [STEP_LABELS]: new ort.Tensor('float32', batch.y.dataSync() as Float32Array, batch.y.shape),
    };
    for (const dropout of graph.dropouts) feeds[dropout.input] = new ort.Tensor('float32', this.dropoutMask(size * dropout.units, dropout.rate), [size, dropout.units]);
    const out = await this.session.run(feeds);
    const grads: tf.NamedTensorMap = {};
    for (const port of graph.weights) grads[port.variable] = tf.tensor(out[port.gradient]!.data as Float32Array, [...port.shape]);
    const loss = tf.scalar((out[STEP_LOSS]!.data as Float32Array)[0]!);
    const predicted = wantPredicted ? tf.tensor1d(out[STEP_PREDICTED]!.data as Int32Array, 'int32') : null;
    return { loss, grads, predicted };
  }

  /** Keeps each unit with probability 1 − rate and scales it by 1 / (1 − rate), as tfjs's Dropout does. */
  private dropoutMask(count: number, rate: number): Float32Array {
    const mask = new Float32Array(count);
    const kept = 1 / (1 - rate);
    for (let i = 0; i < count; i++) mask[i] = this.random() >= rate ? kept : 0;
    return mask;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
