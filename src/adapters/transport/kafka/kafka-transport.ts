// Cluster-mode transport on Apache Kafka (kafkajs). Requests are keyed by request id on partitioned topics;
// consumer groups share the work; an offset is committed only after its handler resolved (at-least-once);
// sends use acks=all and are retried whole by the publisher (publisher.ts says why not by kafkajs);
// a message whose handler keeps failing goes to the dead-letter topic; a consumer kafkajs gives up on is
// restarted. Request/reply uses one reply topic per instance that sends requests, created at start and
// deleted at close.
// TLS and SASL come from `security` (security.ts), through the one client maker (client.ts).
import { Partitioners, logLevel, type Admin, type Kafka, type LogEntry, type Producer, type ProducerConfig } from 'kafkajs';
import { createKafkaClient, describeIdentity } from './client.ts';
import { CoalescingPublisher, PRODUCER_SETTINGS } from './publisher.ts';
// Before any connection exists: stops kafkajs's per-connection 1 ms timer loop (see the file).
import './kafkajs-request-queue.ts';
// A crashed broker stops only its own fetcher, and a group finds its new coordinator (see the file).
import './kafkajs-broker-loss.ts';
import type { KafkaSecurity } from './security.ts';
import { KafkaSubscription, type SubscriptionSettings } from './subscription.ts';
import { TopicAdmin } from './topics.ts';
import { retry } from '../../../flow/retry.ts';
import { RequestReply } from '../request-reply.ts';
import { HEADER, TransportClosedError, deadLetterTopic, type Delivery, type Envelope, type Handler, type OutgoingMessage, type RequestOptions, type SubscribeOptions, type Subscription, type Transport } from '../transport.ts';

export type KafkaLog = (level: 'warn' | 'debug', message: string, fields: Record<string, unknown>) => void;

export interface KafkaTransportOptions {
  readonly brokers: readonly string[];
  readonly clientId?: string;
  /** TLS and SASL; none by default (plain TCP, no user). */
  readonly security?: KafkaSecurity;
  /** Make the reply inbox (a topic, and a group reading it) that request() needs; default true. Roles that
   * send no requests go without: their Kafka user then needs no right to read any reply (acls.ts). */
  readonly replyInbox?: boolean;
  /** Partitions of each topic the transport creates (reply inboxes get one). */
  readonly partitions?: number;
  readonly replicationFactor?: number;
  /** Defaults to 2 when replicating 3 ways or more, else 1. */
  readonly minInsyncReplicas?: number;
  /** Handler attempts before a message is dead-lettered. */
  readonly maxAttempts?: number;
  /** Delay before the second attempt; it doubles for each one after. */
  readonly retryDelayMs?: number;
  readonly sessionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /** Longest a fetch waits on an idle topic (default 200 ms). When a broker dies, kafkajs starts its fetchers
   * afresh once the broker list changes, but only after each live fetcher's long poll has ended, so the
   * partitions that moved wait up to this long for their first fetch from the new leader (450-480 ms at
   * 500, in the fault test's broker crash; kafkajs's own default is 5 s). Shorter costs CPU while idle: a client
   * with its reply inbox and one subscription on three brokers spent 9.5 ms a second at 500, 13.3 at 200
   * and 16 at 100. */
  readonly maxWaitMs?: number;
  readonly drainTimeoutMs?: number;
  /** How often an idle instance checks that the cluster answers (for healthy()). */
  readonly probeIntervalMs?: number;
  /** kafkajs partitionsConsumedConcurrently, default `partitions` (bench/kafka-transport.ts compares values). */
  readonly partitionsAtOnce?: number;
  readonly instanceId?: string;
  /** This process's static member id (group.instance.id) in every group it joins; none: a new member at
   * each start (kafkajs-static-membership.ts says why ops/k8s gives the consumers their pod's name). */
  readonly groupInstanceId?: string;
  /** Longest a handled message waits for its offset commit; default 250 ms (kafka-subscription.ts). */
  readonly commitIntervalMs?: number;
  /** Handled messages that trigger a commit before the interval is up; default 500. */
  readonly commitAfterMessages?: number;
  /** Pause before a crashed consumer is restarted; doubles per crash in a row, up to 30 s. */
  readonly restartDelayMs?: number;
  /** How often the lag of each subscribed group is measured (two admin requests per group and topic). */
  readonly lagIntervalMs?: number;
  /** Where kafkajs's own log lines go; by default nowhere (they repeat every retriable error). */
  readonly log?: KafkaLog;
}

const REPLY_PREFIX = 'stratus.replies.';

/** Waiting for a cluster that is not up yet: a try every half second at first, every 5 s later. */
const CONNECT_RETRY = Object.freeze({ firstDelayMs: 500, maxDelayMs: 5_000 });

/** A consumer group this instance takes part in, as /metrics shows it. */
export interface ConsumerGroupStats {
  readonly group: string;
  readonly topic: string;
  /** Messages on the topic the group has not committed yet, summed over partitions; null until measured. */
  readonly lag: number | null;
  /** Joins of this instance's member: the first, then one per rebalance; kept across resubscriptions. */
  readonly joins: number;
}

// kafkajs logs every retried request at ERROR; those are routine here, so its ERROR becomes our warn and
// everything below becomes debug.
function logCreator(log: KafkaLog | undefined) {
  return () =>
    ({ namespace, level, log: entry }: LogEntry) => {
      if (!log) return;
      const { message, ...fields } = entry;
      log(level === logLevel.ERROR ? 'warn' : 'debug', `kafkajs ${namespace}: ${message}`, fields);
    };
}

export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly producer: Producer;
  private readonly publisher: CoalescingPublisher;
  private readonly topics: TopicAdmin;
  private readonly requests: RequestReply;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly settings: Omit<SubscriptionSettings, 'topic' | 'group' | 'concurrency'>;
  private state: 'new' | 'open' | 'closed' = 'new';
  private closing: Promise<void> | null = null;
  /** Aborted by close(): a start still waiting for the cluster stops waiting. */
  private readonly closeController = new AbortController();
  private producerConnected = false;
  /** Last word on reaching the cluster, from a send or from the periodic probe. */
  private reachable = true;
  /** Why the last try to reach the cluster failed (refused credentials, an untrusted certificate…); null once it answers. */
  private lastFailure: string | null = null;
  private probe: ReturnType<typeof setInterval> | null = null;
  private probing = false;
  /** Subscriptions whose consumer crashed and has not rejoined its group yet (it is being restarted). */
  private readonly crashed = new Set<KafkaSubscription>();
  private connecting = false;
  private lagTimer: ReturnType<typeof setInterval> | null = null;
  private measuring = false;
  /** By `group \0 topic`: outlives the subscription, so a restarted actor's joins keep counting up. */
  private readonly groupStats = new Map<string, { group: string; topic: string; lag: number | null; joins: number }>();

  constructor(private readonly options: KafkaTransportOptions) {
    if (options.brokers.length === 0) throw new Error('KafkaTransport needs at least one broker');
    const replicationFactor = options.replicationFactor ?? 1;
    this.kafka = createKafkaClient({
      clientId: options.clientId ?? 'stratus',
      brokers: options.brokers,
      ...(options.security ? { security: options.security } : {}),
      logLevel: options.log ? logLevel.WARN : logLevel.NOTHING,
      logCreator: logCreator(options.log),
      retry: { initialRetryTime: 100, retries: 8 },
    });
    this.admin = this.kafka.admin();
    this.producer = this.newProducer();
    this.publisher = new CoalescingPublisher(() => this.producer, (ok) => (this.reachable = ok));
    this.topics = new TopicAdmin(this.admin, {
      partitions: options.partitions ?? 6,
      replicationFactor,
      minInsyncReplicas: options.minInsyncReplicas ?? (replicationFactor >= 3 ? 2 : 1),
    });
    this.settings = {
      maxAttempts: options.maxAttempts ?? 5,
      retryDelayMs: options.retryDelayMs ?? 100,
      sessionTimeoutMs: options.sessionTimeoutMs ?? 10_000,
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 500,
      maxWaitMs: options.maxWaitMs ?? 200,
      drainTimeoutMs: options.drainTimeoutMs ?? 5_000,
      joinTimeoutMs: 60_000,
      partitionsAtOnce: options.partitionsAtOnce ?? options.partitions ?? 6,
      commitIntervalMs: options.commitIntervalMs ?? 250,
      commitAfterMessages: options.commitAfterMessages ?? 500,
      restartDelayMs: options.restartDelayMs ?? 1_000,
      groupInstanceId: options.groupInstanceId,
    };
    this.requests = new RequestReply(this, options.instanceId ?? crypto.randomUUID());
  }

  private newProducer(): Producer {
    const config: ProducerConfig = { ...PRODUCER_SETTINGS, createPartitioner: Partitioners.DefaultPartitioner };
    const producer = this.kafka.producer(config);
    producer.on(producer.events.CONNECT, () => (this.producerConnected = true));
    producer.on(producer.events.DISCONNECT, () => (this.producerConnected = false));
    return producer;
  }

  get maxAttempts(): number {
    return this.settings.maxAttempts;
  }

  async start(): Promise<void> {
    if (this.state !== 'new' || this.connecting) throw new Error(`kafka transport cannot start when ${this.state}`);
    this.connecting = true;
    await this.connectPatiently();
    if (this.state !== 'new') {
      // close() came while connecting.
      await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
      throw new TransportClosedError('kafka transport closed while connecting');
    }
    this.state = 'open';
    // An idle instance sends nothing, and one that is not ready gets no traffic: without a probe, a failed
    // send would keep it unready after the cluster is back, and a dead cluster would go unnoticed.
    this.probe = setInterval(() => void this.checkReach(), this.options.probeIntervalMs ?? 5_000);
    this.probe.unref?.();
    this.lagTimer = setInterval(() => void this.measureLag(), this.options.lagIntervalMs ?? 5_000);
    this.lagTimer.unref?.();
    try {
      if (this.options.replyInbox !== false) {
        // One partition: the inbox has exactly one reader, this instance.
        await this.topics.ensure(this.requests.inbox, 1);
        await this.requests.start();
      }
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  healthy(): boolean {
    return this.state === 'open' && this.producerConnected && this.reachable && this.crashed.size === 0;
  }

  /** Why the cluster could not be reached at the last try, naming the user connected as (never the
   * password) and whether over TLS: e.g. refused SASL credentials; null while it answers. */
  problem(): string | null {
    return this.lastFailure;
  }

  async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (this.state !== 'open') throw new TransportClosedError('kafka transport is closed');
    if (!this.topics.isReady(topic)) {
      // A reply inbox is its owner's to create and delete: a missing one means the requester is gone.
      if (topic.startsWith(REPLY_PREFIX)) {
        if (!(await this.topics.exists(topic))) return;
      } else await this.topics.ensure(topic);
    }
    // kafkajs only reads the headers: they go as they are, without a copy per message.
    const headers = message.headers as Record<string, string> | undefined;
    const value = Buffer.from(message.value.buffer, message.value.byteOffset, message.value.byteLength);
    await this.publisher.publish(topic, { key: message.key, value, headers, ...(message.lane === undefined ? {} : { partition: message.lane }) });
  }

  async subscribe(topic: string, options: SubscribeOptions, handler: Handler): Promise<Subscription> {
    if (this.state !== 'open') throw new TransportClosedError('kafka transport is closed');
    const isInbox = topic === this.requests.inbox;
    if (!isInbox) await Promise.all([this.topics.ensure(topic), this.topics.ensure(deadLetterTopic(topic))]);
    const member = new KafkaSubscription(
      this.kafka,
      { ...this.settings, topic, group: options.group, concurrency: options.concurrency ?? 1 },
      {
        handler,
        deadLetter: (message, reason) => this.deadLetter(message, reason),
        joined: () => this.statsFor(options.group, topic).joins++,
        crashed: (error) => {
          this.crashed.add(member);
          this.options.log?.('warn', 'kafka consumer crashed; restarting it', { topic, group: options.group, reason: error.message });
        },
        recovered: () => this.crashed.delete(member),
      },
    );
    this.subscriptions.add(member);
    try {
      await member.start();
    } catch (error) {
      this.subscriptions.delete(member);
      this.crashed.delete(member);
      throw error;
    }
    return {
      unsubscribe: async () => {
        if (!this.subscriptions.delete(member)) return;
        this.crashed.delete(member);
        await member.stop();
      },
    };
  }

  request(topic: string, message: OutgoingMessage, timeoutMs: number, options?: RequestOptions): Promise<Envelope> {
    if (this.options.replyInbox === false) return Promise.reject(new Error('this kafka transport was made without a reply inbox (replyInbox: false): it cannot send requests'));
    return this.requests.request(topic, message, timeoutMs, options);
  }

  /** The topic's partitions, once this transport has ensured it: requests then pick theirs by who answers. */
  lanesOf(topic: string): number | null {
    return this.topics.partitionsOf(topic);
  }

  reply(request: Delivery, message: Omit<OutgoingMessage, 'key'>): Promise<void> {
    return this.requests.reply(request, message);
  }

  // A cluster that is not up yet (a gateway started before Kafka) is waited for, not fatal: the process
  // stays up and not ready, and gets ready once the brokers answer. Only close() ends the wait. Refused
  // credentials or an untrusted certificate are waited out the same way, at the same slow pace (every 5 s
  // at most), rather than ending the process: a restart would fail alike, in a loop, while a process that
  // stays says why on problem() and in its log, and connects once the broker's side is put right.
  private async connectPatiently(): Promise<void> {
    const onRetry = (error: unknown, attempt: number) => {
      this.lastFailure = this.failureOf(error);
      this.options.log?.('warn', 'kafka cluster unreachable at start; retrying', { attempt, reason: this.lastFailure });
    };
    try {
      await retry(() => Promise.all([this.admin.connect(), this.producer.connect()]), CONNECT_RETRY, { onRetry, signal: this.closeController.signal });
      this.lastFailure = null;
    } catch {
      // Only close() ends the wait; start() sees the state and says so.
    }
  }

  private failureOf(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    const name = error instanceof Error ? error.name : '';
    const identity = describeIdentity(this.options.security);
    if (name === 'KafkaJSSASLAuthenticationError') return `Kafka refused the credentials of ${identity}: ${message}`;
    return `${message} (as ${identity})`;
  }

  /** The groups this instance's subscriptions belong to (see ConsumerGroupStats); for /metrics. */
  consumerGroupStats(): ConsumerGroupStats[] {
    return [...this.groupStats.values()].map((stats) => ({ ...stats }));
  }

  private statsFor(group: string, topic: string) {
    const key = `${group}\0${topic}`;
    let stats = this.groupStats.get(key);
    if (!stats) this.groupStats.set(key, (stats = { group, topic, lag: null, joins: 0 }));
    return stats;
  }

  // Lag = log end offset minus the group's committed offset (the log start where it committed none), per
  // partition, summed. Measured from the cluster, so it counts what no member has fetched yet as well.
  private async measureLag(): Promise<void> {
    if (this.measuring || this.state !== 'open') return;
    this.measuring = true;
    try {
      const live = new Map([...this.subscriptions].map((member) => [`${member.group}\0${member.topic}`, member]));
      for (const member of live.values()) {
        const [committed, ends] = await Promise.all([
          this.admin.fetchOffsets({ groupId: member.group, topics: [member.topic] }),
          this.admin.fetchTopicOffsets(member.topic),
        ]);
        const byPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
        let lag = 0;
        for (const end of ends) {
          const done = byPartition.get(end.partition) ?? -1;
          lag += Math.max(0, Number(end.high) - (done >= 0 ? done : Number(end.low)));
        }
        this.statsFor(member.group, member.topic).lag = lag;
      }
      // A group this instance left has no lag of its own to report any more.
      for (const [key, stats] of this.groupStats) if (!live.has(key)) stats.lag = null;
    } catch {
      // Unreachable cluster: the probe reports that; the last figures stay until the next measurement.
    } finally {
      this.measuring = false;
    }
  }

  private async checkReach(): Promise<void> {
    if (this.probing || this.state !== 'open') return;
    this.probing = true;
    try {
      await this.admin.describeCluster();
      this.reachable = true;
      this.lastFailure = null;
    } catch (error) {
      this.reachable = false;
      this.lastFailure = this.failureOf(error);
    } finally {
      this.probing = false;
    }
  }

  private async deadLetter(message: Delivery, reason: string): Promise<void> {
    const headers = { ...message.headers, [HEADER.deadLetterReason]: reason, [HEADER.deadLetterTopic]: message.topic };
    await this.publish(deadLetterTopic(message.topic), { key: message.key, value: message.value, headers });
  }

  private async shutdown(): Promise<void> {
    this.closeController.abort(new TransportClosedError('kafka transport closed'));
    if (this.state === 'new') {
      this.state = 'closed';
      return;
    }
    this.state = 'closed';
    if (this.probe) clearInterval(this.probe);
    if (this.lagTimer) clearInterval(this.lagTimer);
    await Promise.allSettled([...this.subscriptions].map((member) => member.stop()));
    this.subscriptions.clear();
    this.publisher.abandon(new TransportClosedError('kafka transport closed before the message was sent'));
    if (this.options.replyInbox !== false) await this.topics.delete(this.requests.inbox).catch(() => {});
    await Promise.allSettled([this.producer.disconnect(), this.admin.disconnect()]);
    // Last, with no I/O after it: callers still waiting learn of the close as close() resolves, so one who
    // attaches to its request only after awaiting close() still sees the rejection as handled.
    await this.requests.close();
  }
}
