// Topic creation for KafkaTransport: the broker does not create topics on its own (auto.create.topics.enable
// is off in cluster mode), so the transport creates each one, once, with its configured layout.
import type { Admin } from 'kafkajs';
import { retry } from '../../../flow/retry.ts';

export interface TopicLayout {
  readonly partitions: number;
  readonly replicationFactor: number;
  /** With acks=all, a write needs this many in-sync copies: 2 of 3 survives one broker down. */
  readonly minInsyncReplicas: number;
}

export class TopicAdmin {
  private readonly ready = new Set<string>();
  /** Partitions of each topic as the cluster reported them when it was ensured. */
  private readonly partitions = new Map<string, number>();
  private readonly creating = new Map<string, Promise<void>>();
  private queue: Promise<void> = Promise.resolve();
  private readonly checking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly admin: Admin,
    private readonly layout: TopicLayout,
  ) {}

  /** Synchronous fast path for the common case: the topic was ensured before. */
  isReady(topic: string): boolean {
    return this.ready.has(topic);
  }

  ensure(topic: string, partitions = this.layout.partitions): Promise<void> {
    if (this.ready.has(topic)) return Promise.resolve();
    let creating = this.creating.get(topic);
    if (!creating) {
      // One creation at a time: kafkajs's waitForLeaders asks for the metadata of every topic this admin
      // is creating, and fails the lot when one of them does not exist yet.
      creating = this.queue.then(() => this.create(topic, partitions)).finally(() => this.creating.delete(topic));
      this.queue = creating.catch(() => {});
      this.creating.set(topic, creating);
    }
    return creating;
  }

  /** The topic's partition count, known once it was ensured here; null before. */
  partitionsOf(topic: string): number | null {
    return this.partitions.get(topic) ?? null;
  }

  /** True when the topic exists on the cluster; for reply inboxes, which only their owner may create. */
  exists(topic: string): Promise<boolean> {
    if (this.ready.has(topic)) return Promise.resolve(true);
    // Shared by concurrent callers: a burst of replies to a new inbox asks the cluster once.
    let asking = this.checking.get(topic);
    if (!asking) {
      asking = this.admin
        .listTopics()
        .then((topics) => {
          const found = topics.includes(topic);
          if (found) this.ready.add(topic);
          return found;
        })
        .finally(() => this.checking.delete(topic));
      this.checking.set(topic, asking);
    }
    return asking;
  }

  async delete(topic: string): Promise<void> {
    this.ready.delete(topic);
    this.partitions.delete(topic);
    await this.admin.deleteTopics({ topics: [topic], timeout: 5_000 });
  }

  private async create(topic: string, partitions: number): Promise<void> {
    const { replicationFactor, minInsyncReplicas } = this.layout;
    const configEntries = [{ name: 'min.insync.replicas', value: String(minInsyncReplicas) }, ...retentionFor(topic)];
    try {
      // Resolves false when the topic already exists (another process made it first): that is fine.
      await this.admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions: partitions, replicationFactor, configEntries }] });
    } catch (error) {
      const refusals = refusalsOf(error);
      if (refusals === null) {
        if (!/already exists/i.test(error instanceof Error ? error.message : String(error))) throw error;
      } else if (!/already exists/i.test(refusals)) throw new Error(`cannot create topic ${topic}: ${refusals}`, { cause: error });
    }
    await this.waitForLeaders(topic);
    this.ready.add(topic);
  }

  // Not kafkajs's waitForLeaders: it retries only LEADER_NOT_AVAILABLE, while a KRaft broker may answer
  // UNKNOWN_TOPIC_OR_PARTITION for a moment after the controller created the topic.
  private async waitForLeaders(topic: string, timeoutMs = 30_000): Promise<void> {
    const led = async () => {
      const { topics } = await this.admin.fetchTopicMetadata({ topics: [topic] });
      const layout = topics.find((t) => t.name === topic);
      if (!layout || layout.partitions.length === 0 || layout.partitions.some((p) => p.leader < 0)) {
        throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
      }
      // The cluster's count, not the one asked for: another process may have made the topic first.
      this.partitions.set(topic, layout.partitions.length);
    };
    await retry(led, { firstDelayMs: 50, maxDelayMs: 50, budgetMs: timeoutMs });
  }
}

/** kafkajs reports a creation the broker refused as just "Topic creation errors", with the broker's words
 * (such as "Not authorized to access topics", for a user without CREATE) in the errors it aggregates:
 * those, or null for any other error (a lost connection, say), which is passed on as it is. */
function refusalsOf(error: unknown): string | null {
  const inner = (error as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(inner) || inner.length === 0) return null;
  return inner.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
}

/** Topics whose messages are read within seconds and never again. A data-parallel training run's exchange
 * (src/train/distributed/) writes ~2 MB per rank per step — gigabytes per run — which Kafka's default
 * retention (7 days, no size bound) would keep on the brokers' disks. So: 15 minutes or 256 MiB per
 * partition, whichever comes first (the ranks step in lockstep, so no reader is ever more than a step or
 * two behind), in 64 MiB / 5-minute segments, since Kafka deletes only closed segments. */
export const SHORT_LIVED_TOPIC_PREFIX = 'stratus.train.';

export function retentionFor(topic: string): { name: string; value: string }[] {
  if (!topic.startsWith(SHORT_LIVED_TOPIC_PREFIX)) return [];
  return [
    { name: 'retention.ms', value: String(15 * 60_000) },
    { name: 'retention.bytes', value: String(256 * 2 ** 20) },
    { name: 'segment.ms', value: String(5 * 60_000) },
    { name: 'segment.bytes', value: String(64 * 2 ** 20) },
  ];
}
