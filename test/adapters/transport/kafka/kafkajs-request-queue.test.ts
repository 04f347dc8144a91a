// The patched kafkajs request queue: no timer while nothing waits (kafkajs's own loops at 1 ms forever),
// and a request that must wait is still sent, after the broker's throttle or once a slot frees.
import { describe, expect, test } from 'bun:test';
import { RequestQueue } from '../../../../src/adapters/transport/kafka/kafkajs-request-queue.ts';
import { waitFor } from '../../../helpers/wait.ts';

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

function queue(maxInFlightRequests: number | null) {
  const sent: number[] = [];
  const requestQueue = new RequestQueue({
    maxInFlightRequests,
    requestTimeout: 30_000,
    enforceRequestTimeout: false,
    clientId: 'test',
    broker: 'nowhere:9092',
    logger: quietLogger,
  });
  const push = (correlationId: number) =>
    requestQueue.push({ entry: { correlationId, apiKey: 0, apiName: 'Produce', apiVersion: 3 }, expectResponse: true, sendRequest: () => void sent.push(correlationId) });
  return { requestQueue, sent, push };
}

describe('kafkajs request queue (patched)', () => {
  test('with nothing waiting, checking the queue schedules no further check', () => {
    const { requestQueue, sent, push } = queue(null);
    push(1);
    expect(sent).toEqual([1]);
    requestQueue.checkPendingRequests();
    expect(requestQueue.throttleCheckTimeoutId).toBeNull();
    requestQueue.destroy();
  });

  test('a request held by a throttle is sent once the throttle ends, and the queue then goes quiet', async () => {
    const { requestQueue, sent, push } = queue(null);
    requestQueue.maybeThrottle(30);
    push(1);
    expect(sent).toEqual([]);
    expect(requestQueue.throttleCheckTimeoutId).not.toBeNull();
    await waitFor(() => sent.length === 1, 2_000);
    expect(requestQueue.throttleCheckTimeoutId).toBeNull();
    requestQueue.destroy();
  });

  test('a request waiting for an in-flight slot is sent when an answer frees one', async () => {
    const { requestQueue, sent, push } = queue(1);
    push(1);
    push(2);
    expect(sent).toEqual([1]);
    requestQueue.inflight.delete(1);
    requestQueue.checkPendingRequests();
    expect(sent).toEqual([1, 2]);
    // The check scheduled when request 2 had to wait still fires once, finds nothing and stops there.
    // The id is set until that timer fires, and its callback clears it and would schedule the next check
    // in the same run (kafkajs's own loop does): seen null between two turns of the event loop, the check
    // has fired and scheduled nothing. With nothing pending, only a new request schedules one again.
    expect(requestQueue.throttleCheckTimeoutId).not.toBeNull();
    await waitFor(() => requestQueue.throttleCheckTimeoutId === null, 2_000);
    expect(requestQueue.pending).toHaveLength(0);
    requestQueue.destroy();
  });
});
