// kafkajs 2.2.4 keeps a timer loop running on every broker connection, busy or idle (tulios/kafkajs#1556,
// #1704, unfixed upstream): after each check of its queue of waiting requests, RequestQueue schedules the
// next check whether or not a request waits, and without throttling the delay it computes is negative,
// which timers turn into 1 ms. So each connection wakes its process a thousand times a second — measured
// here at ~50 ms of CPU a second for an idle gateway or consumer, and the source of Bun's
// TimeoutNegativeWarning. This replaces that one method: a check is scheduled only while a request waits
// (after the throttle the broker asked for, or kafkajs's 10 ms interval). Nothing is lost by not
// checking an empty queue: a request that has to wait schedules a check as it is queued (push), and every
// answered request checks the queue again (fulfillRequest).
import RequestQueue from 'kafkajs/src/network/requestQueue/index.js';

/** kafkajs's CHECK_PENDING_REQUESTS_INTERVAL: how soon a waiting request is looked at again when no
 * throttle says otherwise (it waits for a free in-flight slot, which an answer also frees). */
const RECHECK_MS = 10;

interface QueueState {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
  checkPendingRequests(): void;
}

function scheduleCheckPendingRequests(this: QueueState): void {
  if (this.throttleCheckTimeoutId || this.pending.length === 0) return;
  const throttledFor = this.throttledUntil - Date.now();
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, throttledFor > 0 ? throttledFor : RECHECK_MS);
}

RequestQueue.prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;

export { RequestQueue };
