// Which partition ("lane") of a topic a request goes to, on transports that have partitions (Kafka).
// Every lane belongs to one member of the consuming group; when that member dies or hangs, its lanes go
// quiet until the group notices (a session timeout, then a rebalance: seconds). The requester sees it
// first: a request on that lane gets no reply while the other lanes answer. So the lanes are chosen here
// by who answers: requests go round the lanes, skipping those that recently let a request stall; a hedge
// (a second copy of a stalled request) goes to the lane whose replies arrived last. A skipped lane is
// tried again after a probation that doubles while it keeps stalling, so a lane that came back (its
// partitions moved to a live member) gets its share again within seconds. Replies name the member that
// sent them: when a lane stalls, every lane of its member goes on probation with it, and a hedge never
// goes to a lane of that member, so neither goes to another partition of the same hung or dead consumer.
// (Without this, a hedge went to the lane that had answered last, which after a consumer hung mid-stream
// could be one of its own: the hedge stalled too, and the request got a 504.)
import { systemClock, type Clock } from '../../flow/clock.ts';

/** Probation after the first stall; it doubles with each stall in a row, up to the maximum. */
const FIRST_PROBATION_MS = 1_000;
const MAX_PROBATION_MS = 8_000;

interface Lane {
  /** When a reply last came from it; -Infinity before any did. */
  lastReplyAt: number;
  /** The member its last reply came from; undefined before any did, or when replies do not say. */
  member: string | undefined;
  /** Stalls since its last reply. */
  stalls: number;
  /** Skipped until then. */
  avoidUntil: number;
}

export class LaneHealth {
  private readonly topics = new Map<string, { lanes: Lane[]; next: number }>();

  constructor(private readonly clock: Clock = systemClock) {}

  /** The lane for a new request: the next one round the topic's `count` lanes that is not on probation. */
  pick(topic: string, count: number): number {
    const state = this.state(topic, count);
    const now = this.clock.now();
    for (let tried = 0; tried < count; tried++) {
      const lane = state.next++ % count;
      if ((state.lanes[lane] as Lane).avoidUntil <= now) return lane;
    }
    // Every lane is on probation: better any of them than none.
    return state.next++ % count;
  }

  /** The lane for a hedge: the one whose replies arrived last, other than `avoid` and the other lanes of
   * its member (a member that answered a moment ago may have died since); round the lanes when none has
   * answered yet. */
  pickAnswering(topic: string, count: number, avoid: number | undefined): number {
    const state = this.state(topic, count);
    const now = this.clock.now();
    const avoidMember = avoid === undefined ? undefined : state.lanes[avoid]?.member;
    let best: number | undefined;
    for (let lane = 0; lane < count; lane++) {
      const health = state.lanes[lane] as Lane;
      if (lane === avoid || health.avoidUntil > now || health.lastReplyAt === Number.NEGATIVE_INFINITY) continue;
      if (avoidMember !== undefined && health.member === avoidMember) continue;
      if (best === undefined || health.lastReplyAt > (state.lanes[best] as Lane).lastReplyAt) best = lane;
    }
    if (best !== undefined) return best;
    const lane = this.pick(topic, count);
    return lane === avoid && count > 1 ? this.pick(topic, count) : lane;
  }

  /** A reply came from `lane`, sent by `member` when the reply says who sent it. */
  answered(topic: string, lane: number, member?: string): void {
    const health = this.topics.get(topic)?.lanes[lane];
    if (!health) return;
    health.lastReplyAt = this.clock.now();
    health.member = member;
    health.stalls = 0;
    health.avoidUntil = 0;
  }

  /** A request sent on `lane` at `sentAt` has had no reply for longer than it should. Unless the lane
   * answered something since (then it is slow, not gone), it goes on probation, and so does every other
   * lane last served by the same member: even one that answered since may belong to a member that has
   * died since. */
  stalled(topic: string, lane: number, sentAt: number): void {
    const lanes = this.topics.get(topic)?.lanes;
    const health = lanes?.[lane];
    if (!lanes || !health || health.lastReplyAt > sentAt) return;
    const member = health.member;
    const now = this.clock.now();
    for (const other of member === undefined ? [health] : lanes.filter((candidate) => candidate.member === member)) {
      // Already on probation: more of the requests it held tell nothing new.
      if (other.avoidUntil > now) continue;
      other.stalls++;
      other.avoidUntil = now + Math.min(MAX_PROBATION_MS, FIRST_PROBATION_MS * 2 ** (other.stalls - 1));
    }
  }

  private state(topic: string, count: number) {
    let state = this.topics.get(topic);
    if (!state || state.lanes.length !== count) {
      state = { lanes: Array.from({ length: count }, () => ({ lastReplyAt: Number.NEGATIVE_INFINITY, member: undefined, stalls: 0, avoidUntil: 0 })), next: 0 };
      this.topics.set(topic, state);
    }
    return state;
  }
}
