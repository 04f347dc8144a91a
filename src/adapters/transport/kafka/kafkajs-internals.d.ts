// The one kafkajs internal that kafkajs-request-queue.ts patches; kafkajs ships no types for it.
declare module 'kafkajs/src/network/requestQueue/index.js' {
  import type { EventEmitter } from 'node:events';

  interface RequestQueueOptions {
    maxInFlightRequests: number | null;
    requestTimeout: number;
    enforceRequestTimeout: boolean;
    clientId: string;
    broker: string;
    logger: unknown;
    isConnected?: () => boolean;
  }

  class RequestQueue extends EventEmitter {
    constructor(options: RequestQueueOptions);
    pending: unknown[];
    inflight: Map<number, unknown>;
    throttledUntil: number;
    throttleCheckTimeoutId: ReturnType<typeof setTimeout> | null;
    maybeThrottle(clientSideThrottleTime: number | null): void;
    push(request: { entry: { correlationId: number; apiKey?: number; apiName?: string; apiVersion?: number }; expectResponse: boolean; sendRequest: () => void; requestTimeout?: number }): void;
    checkPendingRequests(): void;
    scheduleCheckPendingRequests(): void;
    destroy(): void;
  }
  export default RequestQueue;
}
