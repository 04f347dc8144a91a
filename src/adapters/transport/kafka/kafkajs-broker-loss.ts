// How a kafkajs 2.2.4 consumer takes the crash of one broker, and what this file changes. Measured here
// (bench/failover.ts, broker-kill, 200 requests/s): when the dead broker coordinated the Stratus groups,
// kafkajs alone stalled their consumers for over a minute (1,506 of 4,000 requests got a 504, p99 88 s);
// with this file, 0 × 504 and a p99 of about 3 s.
//
// 1. The group coordinator. kafkajs looks the coordinator up when it joins the group and never again:
//    when that broker dies, heartbeats and offset commits go on failing against it, each failure stopping
//    all fetching and restarting it after a backoff that doubles up to 30 s, until the consumer crashes,
//    although Kafka moves the group to another broker as soon as the dead one is fenced. Here a heartbeat
//    or commit that cannot reach the coordinator starts looking for the new one (every 100 ms until
//    found), and a heartbeat that failed that way is skipped rather than thrown: a missed heartbeat costs
//    nothing within the session timeout, while a thrown one stops all fetching.
// 2. Fetching. kafkajs runs one fetcher per broker, but when one of them cannot reach its broker, the
//    error stops every fetcher of the consumer, with the same backoff (src/consumer/fetchManager.js,
//    runner.js): the live brokers' partitions wait out the dead one's. Here a fetch that cannot connect
//    waits a moment, refreshes the cluster's metadata and returns nothing, as kafkajs already does for a
//    connection that closed: only the dead broker's fetcher loops, and once its partitions have new
//    leaders, the changed broker list starts fetchers afresh.
import ConsumerGroup from 'kafkajs/src/consumer/consumerGroup.js';

/** How often a fetcher whose broker is out of reach, or a search for a coordinator, tries again. */
export const UNREACHABLE_BROKER_RETRY_MS = 100;
/** How long a search for a new coordinator goes on before it leaves the matter to kafkajs (a rejoin). */
const COORDINATOR_SEARCH_MS = 60_000;

const unreachable = (error: unknown): boolean =>
  /^KafkaJS(ConnectionError|ConnectionClosedError|BrokerNotFound|RequestTimeoutError)$/.test(String((error as { name?: unknown } | null)?.name));

const searches = new WeakSet<ConsumerGroup>();

/** Looks the group's coordinator up until a reachable one answers; one search per consumer at a time. */
function findCoordinatorAgain(group: ConsumerGroup): void {
  if (searches.has(group)) return;
  searches.add(group);
  const lost = group.coordinator;
  void (async () => {
    const givingUpAt = Date.now() + COORDINATOR_SEARCH_MS;
    // A rejoin meanwhile (which looks the coordinator up itself) ends the search.
    while (Date.now() < givingUpAt && group.coordinator === lost) {
      try {
        const coordinator = await group.cluster.findGroupCoordinator({ groupId: group.groupId });
        await coordinator.connect();
        if (group.coordinator !== lost) return;
        group.coordinator = coordinator;
        if (group.offsetManager) group.offsetManager.coordinator = coordinator;
        return;
      } catch {
        // Still the dead broker (not yet fenced), or no answer: look again.
        await Bun.sleep(UNREACHABLE_BROKER_RETRY_MS);
      }
    }
  })().finally(() => searches.delete(group));
}

const { recoverFromFetch, heartbeat, commitOffsets } = ConsumerGroup.prototype;

ConsumerGroup.prototype.heartbeat = async function (this: ConsumerGroup, options: { interval: number }): Promise<void> {
  try {
    await heartbeat.call(this, options);
  } catch (error) {
    if (!unreachable(error)) throw error;
    findCoordinatorAgain(this);
  }
};

ConsumerGroup.prototype.commitOffsets = async function (this: ConsumerGroup, offsets?: unknown): Promise<void> {
  try {
    await commitOffsets.call(this, offsets);
  } catch (error) {
    // Thrown all the same: the commit did not happen, and its caller decides what follows.
    if (unreachable(error)) findCoordinatorAgain(this);
    throw error;
  }
};

ConsumerGroup.prototype.recoverFromFetch = async function (this: ConsumerGroup, error: Error): Promise<void> {
  if (error?.name !== 'KafkaJSConnectionError') return recoverFromFetch.call(this, error);
  await Bun.sleep(UNREACHABLE_BROKER_RETRY_MS);
  // A refresh that fails too (the cluster itself out of reach) leaves the next fetch to fail and come here.
  await this.cluster.refreshMetadata().catch(() => {});
};

export { ConsumerGroup };
