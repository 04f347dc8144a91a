// One subscribe() of KafkaTransport: a kafkajs consumer in the caller's group. Messages are handed to the
// handler as soon as a slot is free (up to `concurrency` at once, across partitions); offsets are committed
// only for the contiguous prefix of messages whose handler resolved, in batches (see scheduleCommit). A
// failing handler is retried here with a doubling delay; after the last attempt the message goes to the
// dead-letter topic and counts as done.
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { within } from '../../../flow/clock.ts';
import { backoffDelay, RetriesExhausted, retry } from '../../../flow/retry.ts';
import { PartitionProgress, type Pending } from './partition-progress.ts';
import { joinAsStaticMember } from './kafkajs-static-membership.ts';
import type { Delivery, Handler } from '../transport.ts';

export interface SubscriptionSettings {
  readonly topic: string;
  readonly group: string;
  readonly concurrency: number;
  readonly maxAttempts: number;
  readonly retryDelayMs: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  /** Longest a fetch waits on an idle topic; also bounds how late a member notices a rebalance. */
  readonly maxWaitMs: number;
  /** How long unsubscribe waits for running handlers before it leaves the group without them. */
  readonly drainTimeoutMs: number;
  readonly joinTimeoutMs: number;
  /** Partitions whose fetched batches are handed out at once; the slots bound the handlers either way. */
  readonly partitionsAtOnce: number;
  /** Longest a finished message waits for its offset commit (a crash before it means a redelivery). */
  readonly commitIntervalMs: number;
  /** Finished messages that trigger a commit before the interval is up. */
  readonly commitAfterMessages: number;
  /** Join as this static member (kafkajs-static-membership.ts); undefined: as a new member each time. */
  readonly groupInstanceId?: string;
  /** Pause before restarting a consumer kafkajs gave up on; doubles per crash in a row, up to 30 s. */
  readonly restartDelayMs: number;
}

export interface SubscriptionHooks {
  readonly handler: Handler;
  /** Publishes to the dead-letter topic; rejects when the publish failed (it is then tried again). */
  readonly deadLetter: (message: Delivery, reason: string) => Promise<void>;
  /** This member joined its group: the first time, then once per rebalance (counted for /metrics). */
  readonly joined?: () => void;
  /** The consumer died and kafkajs will not restart it: this subscription restarts it after a pause. */
  readonly crashed: (error: Error) => void;
  /** A restarted consumer joined the group again. */
  readonly recovered?: () => void;
}

/** Counting semaphore whose waiters can be woken empty-handed when the subscription stops. */
class Slots {
  private free: number;
  private readonly waiters: Array<(granted: boolean) => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  tryAcquire(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  wait(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter = (granted: boolean) => {
        clearTimeout(timer);
        resolve(granted);
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at !== -1) this.waiters.splice(at, 1);
        resolve(false);
      }, ms);
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next(true);
    else this.free++;
  }

  wakeAll(): void {
    for (const waiter of this.waiters.splice(0)) waiter(false);
  }
}

/** A topic created a moment ago may be unknown to the broker that answers for a little while. */
const SUBSCRIBE_RETRY = Object.freeze({ firstDelayMs: 100, maxDelayMs: 100, maxAttempts: 20 });

const toText = (value: Buffer | string | (Buffer | string)[] | undefined): string | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value.map(String).join(',') : value.toString();

export class KafkaSubscription {
  /** Replaced by a new one when kafkajs gives up on it (see restartLater). */
  private consumer: Consumer;
  private readonly slots: Slots;
  /** Trackers of the current group generation; a rebalance starts fresh ones (the old ones never commit). */
  private progress = new Map<number, PartitionProgress>();
  private readonly running = new Set<Promise<void>>();
  private stopping = false;
  private stopped: Promise<void> | null = null;
  /** Aborted by stop(): every pause between two attempts ends at once. */
  private readonly stopController = new AbortController();
  private commitTimer: ReturnType<typeof setTimeout> | null = null;
  private finishedSinceCommit = 0;
  private committing: Promise<void> | null = null;
  private wakeJoined!: () => void;
  private readonly firstJoin = new Promise<void>((resolve) => (this.wakeJoined = resolve));
  /** Crashes since the last successful join: the restart delay doubles with each. */
  private crashes = 0;
  private restartTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly settings: SubscriptionSettings,
    private readonly hooks: SubscriptionHooks,
  ) {
    this.slots = new Slots(settings.concurrency);
    this.consumer = this.newConsumer();
  }

  private newConsumer(): Consumer {
    const { settings } = this;
    if (settings.groupInstanceId !== undefined) joinAsStaticMember(settings.group, settings.groupInstanceId);
    const consumer = this.kafka.consumer({
      groupId: settings.group,
      sessionTimeout: settings.sessionTimeoutMs,
      rebalanceTimeout: Math.max(settings.sessionTimeoutMs, 10_000),
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxWaitTimeInMs: settings.maxWaitMs,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 100, retries: 10 },
    });
    // A consumer that was replaced may still report; only the current one speaks for the subscription.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumer !== this.consumer) return;
      this.progress = new Map();
      this.hooks.joined?.();
      if (this.crashes > 0) this.hooks.recovered?.();
      this.crashes = 0;
      this.wakeJoined();
    });
    // What is finished gets committed before the partitions may go to another member, which would otherwise
    // handle it again.
    consumer.on(consumer.events.REBALANCING, () => {
      if (consumer === this.consumer) this.commitNow();
    });
    consumer.on(consumer.events.CRASH, (event) => {
      if (consumer !== this.consumer || event.payload.restart || this.stopping) return;
      this.hooks.crashed(event.payload.error);
      this.restartLater();
    });
    return consumer;
  }

  /** Resolves once this member has joined its group, so what is published afterwards reaches the group. */
  async start(): Promise<void> {
    const { settings } = this;
    await this.launch(this.consumer);
    try {
      await within(this.firstJoin, settings.joinTimeoutMs, () => {
        throw new Error(`joining group ${settings.group} on ${settings.topic} took over ${settings.joinTimeoutMs} ms`);
      });
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  private async launch(consumer: Consumer): Promise<void> {
    const { settings } = this;
    await consumer.connect();
    // Earliest for a group with no committed offset: a group that is new to a topic misses nothing
    // published between subscribe() and its first fetch. A topic created a moment ago can still be unknown
    // to the broker answering this client's metadata: that is tried again for a while.
    await retry(() => consumer.subscribe({ topics: [settings.topic], fromBeginning: true }), SUBSCRIBE_RETRY, {
      retriable: (error) => (error as { retriable?: boolean }).retriable === true,
    });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // More than one at once measured faster for request/reply (bench/kafka-transport.ts); more than
      // `concurrency` could only wait for slots.
      partitionsConsumedConcurrently: Math.max(1, Math.min(settings.partitionsAtOnce, settings.concurrency)),
      eachBatch: (payload) => this.dispatch(payload),
    });
  }

  // kafkajs restarts its consumer after retriable errors only; after any other (a broker's refusal it
  // deems final) the consumer stays down, and with it every delivery to this member. A new consumer,
  // after a doubling pause, rejoins the group; handlers still running finish, and their messages, not
  // committed by the new generation, are redelivered (at-least-once).
  private restartLater(): void {
    if (this.stopping || this.restartTimer !== null) return;
    this.crashes++;
    const delay = backoffDelay({ firstDelayMs: this.settings.restartDelayMs, maxDelayMs: 30_000 }, this.crashes);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.restart();
    }, delay);
    this.restartTimer.unref?.();
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const crashed = this.consumer;
    this.consumer = this.newConsumer();
    await crashed.disconnect().catch(() => {});
    try {
      if (!this.stopping) await this.launch(this.consumer);
    } catch (error) {
      if (this.stopping) return;
      this.hooks.crashed(error instanceof Error ? error : new Error(String(error)));
      this.restartLater();
    }
  }

  get topic(): string {
    return this.settings.topic;
  }

  get group(): string {
    return this.settings.group;
  }

  stop(): Promise<void> {
    this.stopped ??= this.shutdown();
    return this.stopped;
  }

  // eachBatch only hands messages out and returns; it blocks only while every slot is taken, which is the
  // backpressure: kafkajs fetches no more for this member until a handler finishes.
  private async dispatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const progress = this.partition(batch.partition);
    for (const message of batch.messages) {
      let acquired = this.slots.tryAcquire();
      while (!acquired) {
        if (this.stopping || !isRunning() || isStale()) return;
        acquired = await this.slots.wait(this.settings.heartbeatIntervalMs);
        // Heartbeats keep the membership alive while every slot stays busy for longer than a session.
        if (!acquired) await heartbeat();
      }
      if (this.stopping || !isRunning() || isStale()) {
        this.slots.release();
        return;
      }
      const entry = progress.started(Number(message.offset));
      // Resolving moves kafkajs's fetch position only; what is committed is decided by `progress`.
      resolveOffset(message.offset);
      this.track(this.handle(batch.topic, batch.partition, message), progress, entry);
    }
  }

  private partition(partition: number): PartitionProgress {
    let progress = this.progress.get(partition);
    if (!progress) this.progress.set(partition, (progress = new PartitionProgress()));
    return progress;
  }

  private track(handling: Promise<boolean>, progress: PartitionProgress, entry: Pending): void {
    const task = handling.then((finished) => {
      this.running.delete(task);
      this.slots.release();
      if (!finished) return;
      progress.finish(entry);
      this.scheduleCommit();
    });
    this.running.add(task);
  }

  /** True when the message is done with (handled or dead-lettered); false when abandoned by stop(). */
  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<boolean> {
    const headers: Record<string, string> = {};
    const raw = message.headers;
    if (raw) {
      for (const name in raw) {
        const text = toText(raw[name]);
        if (text !== undefined) headers[name] = text;
      }
    }
    const envelope: Delivery = {
      topic,
      attempt: 1,
      lane: partition,
      key: message.key?.toString() ?? '',
      value: message.value ? new Uint8Array(message.value.buffer, message.value.byteOffset, message.value.byteLength) : new Uint8Array(0),
      headers,
    };
    const { maxAttempts, retryDelayMs } = this.settings;
    const signal = this.stopController.signal;
    let reason: string;
    try {
      // The first delivery, by far the most common, gets no copy of the envelope.
      const attempt = (n: number) => (this.stopping ? Promise.reject(signal.reason) : this.hooks.handler(n === 1 ? envelope : { ...envelope, attempt: n }));
      await retry(attempt, { firstDelayMs: retryDelayMs, maxDelayMs: Number.POSITIVE_INFINITY, maxAttempts }, { signal });
      return true;
    } catch (error) {
      if (this.stopping) return false;
      const last = error instanceof RetriesExhausted ? error.last : error;
      reason = last instanceof Error ? last.message : String(last);
    }
    try {
      // Until it lands or the subscription stops: the message counts as done only once it is dead-lettered.
      await retry(() => this.hooks.deadLetter({ ...envelope, attempt: maxAttempts }, reason), { firstDelayMs: retryDelayMs, maxDelayMs: 5_000 }, { signal });
      return true;
    } catch {
      return false;
    }
  }

  // Each OffsetCommit is a replicated write to the group's offsets topic on the broker: committing every
  // completion cost the broker more CPU than the messages themselves. So completions share a commit, made
  // at most commitIntervalMs after the first of them, or once commitAfterMessages are waiting, and always
  // on a rebalance and on stop. Only the finished prefix is ever committed: at-least-once holds; a crash
  // redelivers at most what finished since the last commit.
  private scheduleCommit(): void {
    if (++this.finishedSinceCommit >= this.settings.commitAfterMessages) this.commitNow();
    else if (this.commitTimer === null) {
      this.commitTimer = setTimeout(() => this.commitNow(), this.settings.commitIntervalMs);
      this.commitTimer.unref?.();
    }
  }

  private commitNow(): void {
    if (this.commitTimer !== null) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    this.finishedSinceCommit = 0;
    void this.commit();
  }

  private async commit(): Promise<void> {
    if (this.committing) {
      await this.committing;
      return this.commit();
    }
    const offsets: Array<{ topic: string; partition: number; offset: string }> = [];
    const trackers: Array<[PartitionProgress, number]> = [];
    for (const [partition, progress] of this.progress) {
      const offset = progress.uncommitted();
      if (offset === null) continue;
      offsets.push({ topic: this.settings.topic, partition, offset: offset.toString() });
      trackers.push([progress, offset]);
    }
    if (offsets.length === 0) return;
    this.committing = this.consumer.commitOffsets(offsets).then(
      () => {
        for (const [progress, offset] of trackers) progress.markCommitted(offset);
      },
      // A rebalance took the partition away: its new owner starts from the last commit, which is the
      // at-least-once promise (the message may be handled twice, never lost).
      () => {},
    );
    try {
      await this.committing;
    } finally {
      this.committing = null;
    }
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.stopController.abort(new Error('subscription stopped'));
    this.slots.wakeAll();
    try {
      this.consumer.pause([{ topic: this.settings.topic }]);
    } catch {
      // Never got as far as run(): nothing is being fetched.
    }
    await within(Promise.allSettled([...this.running]), this.settings.drainTimeoutMs, () => undefined);
    if (this.commitTimer !== null) clearTimeout(this.commitTimer);
    this.commitTimer = null;
    await this.commit().catch(() => {});
    await this.consumer.disconnect();
  }
}
