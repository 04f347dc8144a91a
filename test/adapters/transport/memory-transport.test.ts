import { MemoryBroker, MemoryTransport } from '../../../src/adapters/transport/memory-transport.ts';
import { DEFAULTS } from '../../../src/config.ts';
import { runTransportConformance } from './transport.conformance.ts';

runTransportConformance('memory', async () => {
  const broker = new MemoryBroker({ maxAttempts: 3, retryDelayMs: 5 });
  return {
    maxAttempts: broker.maxAttempts,
    settings: DEFAULTS,
    async connect() {
      const transport = new MemoryTransport(broker);
      await transport.start();
      return transport;
    },
    async teardown() {},
  };
});
