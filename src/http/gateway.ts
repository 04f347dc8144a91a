// What the HTTP layer needs of the gateway: classify images, and say which model answers. The gateway
// actor (src/actors/gateway.ts) is the real one; route tests hand the app a fake that fails on cue.
import type { Classification, ClassifyOptions } from '../actors/gateway.ts';
import type { ModelRefusal } from '../protocol/messages.ts';

export type { Classification, ClassifyOptions, ModelRefusal };

export interface Gateway {
  /** `pixels` holds `count` images of 784 values in 0..1; rejects with an actor error (src/actors/errors.ts). */
  classify(pixels: Float32Array, count: number, options?: ClassifyOptions): Promise<Classification>;
  /** The model the consumers last said they serve; null until one has spoken. */
  readonly modelVersion: string | null;
  /** Why a consumer refused to serve `version`; null when none did, or one serves it since. */
  refusalOf(version: string): ModelRefusal | null;
  /** `version` is about to be asked for again: an earlier refusal no longer tells how that will go. */
  forgetRefusal(version: string): void;
}
