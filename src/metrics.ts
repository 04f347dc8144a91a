// Prometheus metrics for /metrics. One registry per process; every role adds to it.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type Stage = 'queue_wait' | 'inference' | 'store' | 'total';

/** What a transport with consumer groups (Kafka) reports; read at each scrape. */
export interface ConsumerGroupSource {
  consumerGroupStats(): ReadonlyArray<{ readonly group: string; readonly topic: string; readonly lag: number | null; readonly joins: number }>;
}

/** What a store's sweeps have done since it opened (Store.sweepTotals). */
export interface SweepTotals {
  readonly sweeps: number;
  readonly failed: number;
  readonly databasesDropped: number;
  readonly feedbackTrimmed: number;
  /** How long the last sweep took, in seconds, and when it ended (ms since the epoch); 0 before the first. */
  readonly lastSeconds: number;
  readonly lastEndedAt: number;
}

/** A store, as /metrics reads its sweeps at each scrape. */
export interface SweepSource {
  sweepTotals(): Promise<SweepTotals>;
}

/** 1, 2, 4, … up to `max`: histogram buckets for counts. */
const powersOfTwo = (max: number): number[] => Array.from({ length: Math.log2(max) + 1 }, (_, i) => 2 ** i);

/** Labels, registry and scrape hook of the consumer-group metrics. */
const byGroupAndTopic = (registry: Registry, collect: () => void) => ({ labelNames: ['group', 'topic'] as const, registers: [registry], collect });

const isGroupSource = (value: object): value is ConsumerGroupSource =>
  typeof (value as Partial<ConsumerGroupSource>).consumerGroupStats === 'function';

export class Metrics {
  readonly registry = new Registry();
  readonly stageSeconds = new Histogram({
    name: 'stratus_stage_duration_seconds',
    help: 'Time a prediction spends in each stage: queue_wait (published to batched), inference, store, total (gateway view)',
    labelNames: ['stage'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({ name: 'stratus_batch_size', help: 'Images per inference batch', buckets: powersOfTwo(1024), registers: [this.registry] });
  readonly requestsPerMessage = new Histogram({
    name: 'stratus_requests_per_message',
    help: 'Prediction requests the gateway sent together in one transport message',
    buckets: powersOfTwo(64),
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({ name: 'stratus_in_flight_requests', help: 'Prediction requests the gateway is holding', registers: [this.registry] });
  readonly errors = new Counter({ name: 'stratus_http_errors_total', help: 'Error answers by HTTP status and error code', labelNames: ['status', 'code'] as const, registers: [this.registry] });
  readonly predictions = new Counter({ name: 'stratus_predictions_total', help: 'Images classified by this process', registers: [this.registry] });
  readonly hedges = new Counter({
    name: 'stratus_hedges_total',
    help: 'Messages with no reply in time, sent once more to a partition that answers (sent), or not for want of budget (over_budget)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly hedgeDelay = new Gauge({
    name: 'stratus_hedge_delay_seconds',
    help: 'How long the gateway now lets a message wait for its reply before it hedges it',
    registers: [this.registry],
  });
  readonly admissions = new Counter({
    name: 'stratus_admissions_total',
    help: 'Requests by kind (page, api, admin) and outcome: refused for the client\'s rate (rate_limited), for its share of the in-flight slots (over_share) or with none free (full); or given a slot (admitted)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly splitChoices = new Counter({
    name: 'stratus_split_choices_total',
    help: 'Drawn numbers sent with alternative splits, by the reading the consumer kept: the gateway\'s own split (primary) or an alternative',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly idempotentReplays = new Counter({
    name: 'stratus_idempotent_replays_total',
    help: 'Requests answered with the stored answer to an earlier request with the same Idempotency-Key',
    registers: [this.registry],
  });
  readonly actorRestarts = new Counter({ name: 'stratus_actor_restarts_total', help: 'Actors restarted by the supervisor after a crash', labelNames: ['actor'] as const, registers: [this.registry] });
  readonly inferenceEngine = new Gauge({
    name: 'stratus_inference_engine',
    help: 'What runs the consumer\'s model: 1 for the engine in use (onnx or wasm), 0 for the other; no series where no consumer runs',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  private readonly groupSources: ConsumerGroupSource[] = [];
  /** Joins already added to the counter, by group and topic: the source's totals only grow. */
  private readonly joinsCounted = new Map<string, number>();
  // The collect hooks run at each scrape; arrow functions, so `this` is the Metrics instance that owns the sources.
  readonly consumerLag = new Gauge({
    name: 'stratus_kafka_consumer_lag',
    help: 'Messages on a topic not yet committed by a consumer group this process belongs to, summed over partitions (measured every 5 s)',
    ...byGroupAndTopic(this.registry, () => this.collectLag()),
  });
  readonly rebalances = new Counter({
    name: 'stratus_kafka_rebalances_total',
    help: "Group joins of this process's consumers (GROUP_JOIN): one at start, then one per rebalance",
    ...byGroupAndTopic(this.registry, () => this.collectJoins()),
  });

  // The store's sweeps, read once per scrape (through the store's thread in local mode) by whichever of
  // these the scrape collects first.
  private sweepSource: SweepSource | null = null;
  private sweepRead: { at: number; done: Promise<void> } | null = null;
  /** What the counters below already hold, by counter and label: the store's totals only grow. */
  private readonly sweepsCounted = new Map<string, number>();
  private readonly readAtScrape = { registers: [this.registry], collect: () => this.collectSweeps() };
  readonly storeSweeps = new Counter({
    name: 'stratus_store_sweeps_total',
    help: "Sweeps of this process's store (expired period databases dropped, feedback trimmed), by outcome",
    labelNames: ['outcome'] as const,
    ...this.readAtScrape,
  });
  readonly storeDatabasesDropped = new Counter({
    name: 'stratus_store_databases_dropped_total',
    help: 'Period databases of results and history dropped whole by the sweeps, once past the retention',
    ...this.readAtScrape,
  });
  readonly storeFeedbackTrimmed = new Counter({ name: 'stratus_store_feedback_trimmed_total', help: 'Oldest feedback samples deleted by the sweeps to keep within --feedback-limit', ...this.readAtScrape });
  readonly storeLastSweepSeconds = new Gauge({ name: 'stratus_store_last_sweep_seconds', help: "How long the store's last sweep took", ...this.readAtScrape });
  readonly storeLastSweepEnded = new Gauge({
    name: 'stratus_store_last_sweep_timestamp_seconds',
    help: "When the store's last sweep ended (Unix time; 0 before the first): an alert on its age finds sweeps that stopped",
    ...this.readAtScrape,
  });

  // Bound once: looking labels up on every observation cost ~50 µs a request under load.
  private readonly stages: Record<Stage, ReturnType<typeof this.stageSeconds.labels>> = {
    queue_wait: this.stageSeconds.labels('queue_wait'),
    inference: this.stageSeconds.labels('inference'),
    store: this.stageSeconds.labels('store'),
    total: this.stageSeconds.labels('total'),
  };

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'stratus_' });
  }

  /** Adds the transport's consumer-group figures to /metrics when it has any (Kafka does). */
  watchConsumerGroups(transport: object): void {
    if (isGroupSource(transport)) this.groupSources.push(transport);
  }

  private collectLag(): void {
    this.consumerLag.reset();
    for (const stats of this.groupStats()) if (stats.lag !== null) this.consumerLag.set({ group: stats.group, topic: stats.topic }, stats.lag);
  }

  private collectJoins(): void {
    for (const { group, topic, joins } of this.groupStats()) {
      const key = `${group}\0${topic}`;
      const counted = this.joinsCounted.get(key) ?? 0;
      if (joins > counted) this.rebalances.inc({ group, topic }, joins - counted);
      this.joinsCounted.set(key, Math.max(joins, counted));
    }
  }

  private groupStats() {
    return this.groupSources.flatMap((source) => source.consumerGroupStats());
  }

  /** Adds the store's sweep totals to /metrics. */
  watchSweeps(store: SweepSource): void {
    this.sweepSource = store;
    // Both outcomes from the start, so that a rate or an alert on failures finds a series at 0.
    for (const outcome of ['ok', 'failed']) this.storeSweeps.inc({ outcome }, 0);
  }

  private collectSweeps(): Promise<void> {
    const now = Date.now();
    if (!this.sweepRead || now - this.sweepRead.at > 1_000) this.sweepRead = { at: now, done: this.readSweeps() };
    return this.sweepRead.done;
  }

  private async readSweeps(): Promise<void> {
    // A store closed or away has nothing to add: the series keep what they had.
    const totals = await this.sweepSource?.sweepTotals().catch(() => null);
    if (!totals) return;
    const catchUp = (key: string, total: number, add: (by: number) => void) => {
      const counted = this.sweepsCounted.get(key) ?? 0;
      if (total > counted) add(total - counted);
      this.sweepsCounted.set(key, Math.max(total, counted));
    };
    catchUp('ok', totals.sweeps - totals.failed, (by) => this.storeSweeps.inc({ outcome: 'ok' }, by));
    catchUp('failed', totals.failed, (by) => this.storeSweeps.inc({ outcome: 'failed' }, by));
    catchUp('dropped', totals.databasesDropped, (by) => this.storeDatabasesDropped.inc(by));
    catchUp('feedback', totals.feedbackTrimmed, (by) => this.storeFeedbackTrimmed.inc(by));
    this.storeLastSweepSeconds.set(totals.lastSeconds);
    this.storeLastSweepEnded.set(totals.lastEndedAt / 1000);
  }

  /** Every engine gets a series, so a query or alert for either finds one whichever serves. */
  useEngine(engine: string, engines: readonly string[]): void {
    for (const name of engines) this.inferenceEngine.set({ engine: name }, name === engine ? 1 : 0);
  }

  observe(stage: Stage, seconds: number): void {
    this.stages[stage].observe(seconds);
  }
}
