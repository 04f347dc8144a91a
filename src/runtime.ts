// One Stratus process: its adapters, the actors its role asks for, and the HTTP server every role has.
// Start order: the port (probes answer "not ready" meanwhile), adapters, then gateway (so it hears the
// consumer's first model announcement), then consumer. Stop: gateway intake closes and drains, consumer
// finishes, then port and adapters.
// The trainer role runs one TrainerActor instead and reports its end through `finished`.
import type { Actor } from './actors/actor.ts';
import { ConsumerActor } from './actors/consumer.ts';
import { GatewayActor } from './actors/gateway.ts';
import { Supervisor } from './actors/supervisor.ts';
import { TrainerActor } from './actors/trainer.ts';
import { createStore } from './adapters/store/registry.ts';
import { createTransport } from './adapters/transport/registry.ts';
import type { Store } from './adapters/store/store.ts';
import type { Transport } from './adapters/transport/transport.ts';
import { listenPort, type Config } from './config.ts';
import { createApp, createSplitApps } from './http/app.ts';
import { AdminGuard } from './http/admin-guard.ts';
import { DrawingPool } from './http/drawing-pool.ts';
import { SessionIds } from './http/session.ts';
import { sessionKeyFor } from './http/session-key.ts';
import type { Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { chooseEngine } from './model/engine-choice.ts';
import { ENGINES } from './model/engines.ts';
import { ModelRegistry } from './model/model-registry.ts';
import { trialUnder } from './model/model-trial.ts';
import { readEmbeddedVersion } from './model/publish.ts';
import { readEmbeddedModel, readModelDirectory, type ModelSource } from './model/model-source.ts';
import { WorkerClassifier, type Predictor } from './model/worker-classifier.ts';
import { INFERENCE_WORKER, PREPROCESS_WORKER } from './workers.ts';

export interface Running {
  /** Null for a trainer started without --port: it serves no HTTP. */
  readonly url: string | null;
  readonly port: number | null;
  /** The --admin-port listener (metrics, model admin, dashboard); null without --admin-port. */
  readonly adminUrl: string | null;
  readonly adminPort: number | null;
  /** The --metrics-port listener (/metrics alone); null without --metrics-port. */
  readonly metricsUrl: string | null;
  /** The trainer role's end: resolves once the model is written, rejects if training fails. Null for
   * the serving roles, which run until stopped. */
  readonly finished: Promise<void> | null;
  stop(): Promise<void>;
}

export interface RuntimeOverrides {
  /** Tests pass adapters they want to inspect; otherwise the registry builds them from the config. */
  readonly transport?: Transport;
  readonly store?: Store;
}

export async function startRuntime(config: Config, logger: Logger, overrides: RuntimeOverrides = {}): Promise<Running> {
  const started = performance.now();
  const metrics = new Metrics();
  const runsGateway = config.role === 'gateway' || config.role === 'all';
  const runsConsumer = config.role === 'consumer' || config.role === 'all';
  const runsTrainer = config.role === 'trainer';
  // The trainer neither messages other actors nor stores results: in-process adapters keep the
  // supervisor and probes uniform without touching --data-dir or a cluster. With --publish it stores
  // the model and announces it, so it needs the configured ones; --include-feedback reads the store's
  // feedback samples, so it needs the configured store (the transport can stay in-process).
  // A rank of a run across processes (--world-size > 1) meets the others on the transport; only rank 0
  // checkpoints to the store (so ranks on one machine do not contend for one --data-dir).
  const otherRank = runsTrainer && config.worldSize > 1 && config.rank > 0 && !config.publish && !config.includeFeedback;
  const adapterConfig: Config =
    runsTrainer && !config.publish && config.worldSize === 1
      ? { ...config, transport: 'memory', store: config.includeFeedback ? config.store : 'memory' }
      : otherRank ? { ...config, store: 'memory' } : config;
  // One engine for the life of the process, every version switched to included. Chosen before anything
  // opens: an engine asked for that cannot load ends the start with nothing to close.
  const engine = runsConsumer ? await chooseEngine(config.engine) : null;
  if (engine) {
    if (engine.fallbackReason) logger.warn({ engine: engine.engine, reason: engine.fallbackReason }, 'ONNX Runtime does not load here: the model runs on the wasm engine');
    metrics.useEngine(engine.engine, ENGINES);
  }
  const transport = overrides.transport ?? (await createTransport(adapterConfig.transport, adapterConfig));
  const store = overrides.store ?? (await createStore(adapterConfig.store, adapterConfig));
  metrics.watchConsumerGroups(transport);
  metrics.watchSweeps(store);

  // Only the consumer classifies; only it pays for the model, in a thread of its own.
  const startClassifier = async (source: ModelSource): Promise<Predictor> => {
    if (!engine) throw new Error(`role ${config.role} runs no model`);
    if (config.inference === 'worker') return WorkerClassifier.start(INFERENCE_WORKER, engine.engine, source);
    // Loaded on demand: with inference in the worker, the main thread never loads the model (nor tfjs).
    const { InlineClassifier } = await import('./model/inline-classifier.ts');
    return InlineClassifier.start(engine.engine, source);
  };
  const loadClassifier = async (): Promise<Predictor> =>
    startClassifier(config.model ? await readModelDirectory(config.model) : await readEmbeddedModel());

  // The model loads in its thread while the adapters connect: start-to-ready is the longer of the two.
  let preloaded = runsConsumer ? loadClassifier() : null;
  preloaded?.catch(() => {}); // a failure surfaces when the consumer awaits it
  const nextClassifier = () => {
    const next = preloaded ?? loadClassifier();
    preloaded = null;
    return next;
  };

  const supervisor = new Supervisor({ config, transport, store, logger, metrics });
  const gateway = runsGateway ? new GatewayActor() : undefined;
  // The consumer follows the model registry; at start, --model wins over the store's serving version.
  const consumer = runsConsumer ? new ConsumerActor(nextClassifier, { start: startClassifier, pinned: config.model !== null }) : undefined;
  const trainer = runsTrainer ? new TrainerActor() : undefined;
  const actors: Actor[] = [gateway, consumer, trainer].filter((actor): actor is NonNullable<typeof actor> => actor !== undefined);

  const readiness = {
    notReadyReasons(): string[] {
      const reasons: string[] = [];
      // The probe is public: why (a broker's address, a user name) goes to the log, not here.
      if (!transport.healthy()) reasons.push(`transport ${transport.name} is down`);
      if (!store.healthy()) reasons.push(`store ${store.name} is down`);
      for (const actor of actors) if (!actor.ready()) reasons.push(`${actor.name} is not ready`);
      return reasons;
    },
  };
  const models = gateway ? { registry: new ModelRegistry(store, transport, trialUnder(config.trialMemoryMb)), admin: new AdminGuard(config.adminToken, logger) } : undefined;
  // Costly drawings are made on threads of their own: half the cores, leaving the rest to HTTP and inference.
  const drawings = gateway ? new DrawingPool(PREPROCESS_WORKER, Math.max(1, Math.floor(navigator.hardwareConcurrency / 2))) : undefined;
  const sessionKey = gateway ? await sessionKeyFor(config) : null;
  if (gateway && !sessionKey && config.transport !== 'memory') {
    logger.warn('STRATUS_SESSION_KEY is not set: session cookies are signed with a key of this process alone, so other gateways and the next start will not know them');
  }
  const sessions = new SessionIds(sessionKey, config.secureCookies);
  const admission = { rateLimits: config.rateLimits, maxInFlight: config.maxInFlight, trustedProxies: config.trustedProxies, sessions };
  const appOptions = {
    readiness,
    metrics,
    logger,
    maxBodyBytes: config.maxBodyBytes,
    admission,
    ...(gateway ? { gateway, store } : {}),
    ...(models ? { models } : {}),
    ...(drawings ? { drawings } : {}),
  };
  // With --admin-port, metrics and the model admin routes move to a port of their own, which a deployment
  // keeps off its Ingress; --port then serves only what the public may reach (http/app.ts, Surface). With
  // --metrics-port, metrics move on again, to a port that serves nothing else.
  const apps = config.adminPort === null ? { main: createApp(appOptions), admin: null, metrics: null } : createSplitApps(appOptions, config.metricsPort !== null);
  const port = listenPort(config);
  let server: ReturnType<typeof listen> | null = null;
  let adminServer: ReturnType<typeof listen> | null = null;
  let metricsServer: ReturnType<typeof listen> | null = null;
  const stopListening = async () => {
    for (const listening of [server, adminServer, metricsServer]) await listening?.stop(true);
  };
  // A start that fails leaves no port open and no model thread running.
  const abandonStart = async () => {
    void preloaded?.then((classifier) => classifier.close(), () => {});
    await stopListening();
  };
  try {
    server = port === null ? null : listen(apps.main, config, port);
    adminServer = apps.admin && config.adminPort !== null ? listen(apps.admin, config, config.adminPort) : null;
    metricsServer = apps.metrics && config.metricsPort !== null ? listen(apps.metrics, config, config.metricsPort) : null;
  } catch (error) {
    await abandonStart();
    throw error;
  }
  const urlOf = (listening: { port: number | undefined }) => `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${listening.port}`;
  const url = server ? urlOf(server) : null;
  const adminUrl = adminServer ? urlOf(adminServer) : null;
  const metricsUrl = metricsServer ? urlOf(metricsServer) : null;
  // The port opens before the adapters connect: while Kafka or CouchDB is out of reach (a gateway started
  // before Kafka), the process answers probes (not ready, with the reason) and 503 on predict, and gets
  // ready once they answer, instead of dying and leaving it to a restart loop.
  try {
    await Promise.all([transport.start(), store.open()]);
  } catch (error) {
    await abandonStart();
    throw error;
  }
  // The embedded model is a version like any other: listed on /models with its report, servable, a
  // rollback target. Stored once; a store that cannot take it now gets it at the next start.
  if (models) await storeEmbeddedVersion(models.registry, logger);
  for (const actor of actors) await supervisor.start(actor);
  // The line names only the adapters the role really uses, not a trainer's in-process stand-ins.
  const standIn = adapterConfig !== config;
  const uses = {
    ...(standIn && adapterConfig.transport === 'memory' ? {} : { transport: transport.name }),
    ...(standIn && adapterConfig.store === 'memory' ? {} : { store: store.name }),
  };
  logger.info({ role: config.role, ...(url ? { url } : {}), ...(adminUrl ? { adminUrl } : {}), ...(metricsUrl ? { metricsUrl } : {}), ...uses, startMs: Math.round(performance.now() - started) }, 'stratus started');

  let stopping: Promise<void> | null = null;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping: intake closed, draining in-flight requests');
      await supervisor.stopAll();
      await consumer?.close();
      // What the gateway still holds now loses its answer as the server closes the connections: the drain
      // overran --shutdown-timeout-ms. The rest still closes, but the stop is not a clean one.
      const cutOff = gateway?.held ?? 0;
      await stopListening();
      drawings?.close();
      await transport.close();
      await store.close();
      if (cutOff > 0) throw new Error(`${cutOff} in-flight requests were cut off: not answered within --shutdown-timeout-ms ${config.shutdownTimeoutMs}`);
      logger.info('stopped');
    })());
  return { url, port: server?.port ?? null, adminUrl, adminPort: adminServer?.port ?? null, metricsUrl, finished: trainer?.finished ?? null, stop };
}

async function storeEmbeddedVersion(registry: ModelRegistry, logger: Logger): Promise<void> {
  try {
    const { meta, files } = await readEmbeddedVersion();
    if ((await registry.ensureStored(meta, files)) === 'created') logger.info({ version: meta.version }, 'embedded model stored as a version');
  } catch (error) {
    logger.warn({ err: error }, 'could not store the embedded model as a version');
  }
}

/** Another process on the port: Elysia would share it (SO_REUSEPORT) unless asked not to. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

/** Seconds a connection may stay silent beyond the request deadline. */
const IDLE_MARGIN_S = 2;

function listen(app: ReturnType<typeof createApp>, config: Config, port: number) {
  try {
    // The app refuses a declared content-length over the limit with a JSON 413; Bun's own cap, above it,
    // stops a chunked upload that declares no length.
    // Bun closes a connection silent for idleTimeout seconds, a request still being answered included: it
    // must outlast the request deadline, or a 504 would be cut off. It also bounds how long a client may
    // take to send its headers (the body has its own deadline, http/body.ts).
    const idleTimeout = Math.min(255, Math.ceil(config.requestTimeoutMs / 1000) + IDLE_MARGIN_S);
    app.listen({ hostname: config.host, port, reusePort: config.sharePort, maxRequestBodySize: config.maxBodyBytes * 2, idleTimeout });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EADDRINUSE') throw new PortInUseError(`port ${port} on ${config.host} is in use by another process`);
    throw error;
  }
  if (!app.server) throw new Error('HTTP server did not start');
  return app.server;
}
