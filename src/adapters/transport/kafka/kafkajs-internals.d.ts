// The kafkajs internals that kafkajs-request-queue.ts and kafkajs-broker-loss.ts patch; kafkajs ships no types for them.
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

// The consumer-group methods kafkajs-broker-loss.ts patches, and the state they use.
declare module 'kafkajs/src/consumer/consumerGroup.js' {
  interface CoordinatorBroker {
    connect(): Promise<void>;
  }
  class ConsumerGroup {
    constructor(options: Record<string, unknown>);
    groupId: string;
    memberId: string | null;
    generationId: number | null;
    coordinator: CoordinatorBroker | null;
    offsetManager: { coordinator: CoordinatorBroker } | null;
    cluster: { refreshMetadata(): Promise<void>; findGroupCoordinator(options: { groupId: string }): Promise<CoordinatorBroker> };
    recoverFromFetch(error: Error): Promise<void>;
    heartbeat(options: { interval: number }): Promise<void>;
    commitOffsets(offsets?: unknown): Promise<void>;
  }
  export default ConsumerGroup;
}

// The group requests kafkajs-static-membership.ts wraps: each module's encoder for a protocol version.
declare module 'kafkajs/src/protocol/requests/*/index.js' {
  type Encode = (args: Record<string, unknown>) => unknown;
  const definition: { versions: string[]; protocol: (options: { version: number }) => Encode };
  export default definition;
}
