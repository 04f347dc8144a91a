// KafkaTransport's own cost on a real broker: one-way throughput (publish → handler → commit) and
// request/reply latency under concurrency, for each `partitionsAtOnce` given; and the CPU each message
// costs, in this process (both ends of the transport) and in the brokers.
//
//   eval "$(ops/dev/services up)"; bun run bench/kafka-transport.ts [--messages 5000] [--requests 2000]
//       [--in-flight 128] [--at-once 1,3]
//
// Broker CPU is read from /proc for the brokers STRATUS_SERVICES_DIR's state.json names (ops/dev/services
// writes it); without it only this process's CPU is shown. Figures only, no pass/fail: the machine is
// shared, so compare CPU per message, which load changes far less than throughput.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KafkaTransport } from '../src/adapters/transport/kafka/kafka-transport.ts';

const { values: flags } = parseArgs({
  options: {
    messages: { type: 'string', default: '5000' },
    requests: { type: 'string', default: '2000' },
    'in-flight': { type: 'string', default: '128' },
    'at-once': { type: 'string', default: '1,3' },
  },
});
const brokers = (process.env.KAFKA_BROKERS ?? '').split(',').filter(Boolean);
if (brokers.length === 0) {
  console.error('bench/kafka-transport: set KAFKA_BROKERS (eval "$(ops/dev/services up)")');
  process.exit(2);
}
const messages = Number(flags.messages);
const requests = Number(flags.requests);
const inFlight = Number(flags['in-flight']);
const payload = new Uint8Array(784 * 4);

const brokerPids: number[] = (() => {
  const state = process.env.STRATUS_SERVICES_DIR ? join(process.env.STRATUS_SERVICES_DIR, 'state.json') : '';
  if (!state || !existsSync(state)) return [];
  return (JSON.parse(readFileSync(state, 'utf8')) as { brokers: { pid: number }[] }).brokers.map((b) => b.pid);
})();

/** CPU seconds a process has used: utime + stime from /proc (clock ticks of 1/100 s on Linux). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Starts a CPU meter; calling the result gives µs per unit for this process and the brokers. */
function cpuMeter(): (units: number) => string {
  const self = process.cpuUsage();
  const brokers = brokerPids.map(processCpuSeconds);
  return (units) => {
    const used = process.cpuUsage(self);
    const client = (used.user + used.system) / units;
    const text = `CPU per message: this process ${client.toFixed(0)} µs`;
    if (brokerPids.length === 0) return `${text} (brokers: set STRATUS_SERVICES_DIR)`;
    const broker = brokerPids.reduce((sum, pid, i) => sum + processCpuSeconds(pid) - (brokers[i] as number), 0);
    return `${text}, brokers ${((broker * 1e6) / units).toFixed(0)} µs`;
  };
}

async function oneWay(atOnce: number): Promise<void> {
  const transport = new KafkaTransport({ brokers, partitionsAtOnce: atOnce });
  await transport.start();
  const topic = `bench.oneway.${Date.now()}`;
  let handled = 0;
  let finished!: () => void;
  const all = new Promise<void>((resolve) => (finished = resolve));
  await transport.subscribe(topic, { group: 'bench', concurrency: 64 }, async () => {
    if (++handled === messages) finished();
  });
  const started = performance.now();
  const cpu = cpuMeter();
  // Publishes in waves of `inFlight`, the way a busy gateway issues them.
  for (let i = 0; i < messages; i += inFlight) {
    const wave = Array.from({ length: Math.min(inFlight, messages - i) }, (_, j) => transport.publish(topic, { key: `k${i + j}`, value: payload }));
    await Promise.all(wave);
  }
  const published = performance.now();
  await all;
  const seconds = (performance.now() - started) / 1000;
  // Lets the last commits land, so that they are counted.
  await Bun.sleep(500);
  console.log(`one-way  at-once=${atOnce}: ${messages} messages of ${payload.byteLength} B, published in ${((published - started) / 1000).toFixed(2)} s, handled in ${seconds.toFixed(2)} s = ${(messages / seconds).toFixed(0)} msg/s; ${cpu(messages)}`);
  await transport.close();
}

async function requestReply(atOnce: number): Promise<void> {
  const [server, client] = [new KafkaTransport({ brokers, partitionsAtOnce: atOnce }), new KafkaTransport({ brokers, partitionsAtOnce: atOnce })];
  await Promise.all([server.start(), client.start()]);
  const topic = `bench.rr.${Date.now()}`;
  await server.subscribe(topic, { group: 'bench', concurrency: 128 }, async (request) => server.reply(request, { value: request.value.subarray(0, 40) }));
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const cpu = cpuMeter();
  const worker = async () => {
    while (next < requests) {
      const id = next++;
      const sent = performance.now();
      await client.request(topic, { key: `r${id}`, value: payload }, 30_000);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - started) / 1000;
  await Bun.sleep(500);
  const perRequest = cpu(requests);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(1);
  console.log(`request  at-once=${atOnce}: ${requests} with ${inFlight} in flight: ${(requests / seconds).toFixed(0)} req/s, latency p50 ${at(0.5)} ms, p99 ${at(0.99)} ms (includes the first, cold requests); ${perRequest.replace('message', 'request')}`);
  await Promise.all([server.close(), client.close()]);
}

for (const atOnce of flags['at-once'].split(',').map(Number)) {
  await oneWay(atOnce);
  await requestReply(atOnce);
}
