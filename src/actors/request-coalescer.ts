// The gateway's side of batching: requests that arrive while earlier batches are still being answered
// wait and leave together, as one message. At low load nothing waits (a request leaves on the next turn
// of the event loop, alone); under load batches grow by themselves, with no timer deciding their size.
// Why: each message costs the gateway, the broker and the consumer a fixed price (encoding, a record, a
// delivery, offset tracking, a reply), several times what its pixels cost; one message for 16 requests
// pays it once.
import { systemClock, type Clock } from '../flow/clock.ts';
import type { PredictionReply, PredictionRequest } from '../protocol/messages.ts';
import { oldestWithin } from '../flow/oldest-within.ts';

export interface CoalescerOptions {
  /** Images per batch at most: the consumer's model call size, so one batch never needs two calls. */
  readonly maxImages: number;
  /** Batches awaiting their reply before new requests hold back to join the next one. */
  readonly maxOutstanding: number;
  /** Longest a request holds back: a batch stuck on a crashed consumer must not stall the ones after it. */
  readonly maxHoldMs: number;
  readonly clock?: Clock;
}

/** Sends one batch and resolves with the replies it got, in any order, matched by request id;
 * `oldestQueuedAt` (clock time) lets the deadline count the wait in the queue. */
export type SendBatch = (requests: PredictionRequest[], oldestQueuedAt: number) => Promise<PredictionReply[]>;

interface Queued {
  readonly request: PredictionRequest;
  readonly queuedAt: number;
  readonly resolve: (reply: PredictionReply) => void;
  readonly reject: (error: unknown) => void;
}

export class MissingReplyError extends Error {
  override readonly name = 'MissingReplyError';
}

export class RequestCoalescer {
  private queue: Queued[] = [];
  private queuedImages = 0;
  private outstanding = 0;
  private immediate = false;
  private holdTimer: unknown = null;
  private readonly clock: Clock;

  constructor(
    private readonly send: SendBatch,
    private readonly options: CoalescerOptions,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  submit(request: PredictionRequest): Promise<PredictionReply> {
    return new Promise<PredictionReply>((resolve, reject) => {
      this.queue.push({ request, queuedAt: this.clock.now(), resolve, reject });
      this.queuedImages += request.count;
      if (this.queuedImages >= this.options.maxImages) this.sendQueued();
      else if (this.outstanding < this.options.maxOutstanding) this.sendOnNextTurn();
      else if (this.holdTimer === null) this.holdTimer = this.clock.setTimeout(() => this.sendQueued(), this.options.maxHoldMs);
    });
  }

  /** Requests that arrive in the same turn of the event loop (one read of many sockets) leave together. */
  private sendOnNextTurn(): void {
    if (this.immediate) return;
    this.immediate = true;
    setImmediate(() => {
      this.immediate = false;
      if (this.outstanding < this.options.maxOutstanding) this.sendQueued();
    });
  }

  /** Sends everything queued, as batches of at most maxImages (a request bigger than that goes alone). */
  private sendQueued(): void {
    if (this.holdTimer !== null) {
      this.clock.clearTimeout(this.holdTimer);
      this.holdTimer = null;
    }
    while (this.queue.length > 0) {
      const { count, size } = oldestWithin(this.queue, (queued) => queued.request.count, this.options.maxImages);
      this.queuedImages -= size;
      void this.sendBatch(this.queue.splice(0, count));
    }
  }

  private async sendBatch(batch: readonly Queued[]): Promise<void> {
    this.outstanding++;
    try {
      const replies = await this.send(
        batch.map((queued) => queued.request),
        (batch[0] as Queued).queuedAt,
      );
      const byId = new Map(replies.map((reply) => [reply.id, reply]));
      for (const { request, resolve, reject } of batch) {
        const reply = byId.get(request.id);
        if (reply) resolve(reply);
        else reject(new MissingReplyError(`the reply to its batch has no answer for request ${request.id}`));
      }
    } catch (error) {
      for (const queued of batch) queued.reject(error);
    } finally {
      this.outstanding--;
      // What held back while this batch was out leaves now, as one batch.
      if (this.queue.length > 0 && this.outstanding < this.options.maxOutstanding) this.sendQueued();
    }
  }
}
