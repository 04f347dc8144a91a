// Entry point of the `stratus` binary: parse the command line once, start the role, stop cleanly on a signal.
import { join } from 'node:path';
import { UnknownAdapterError } from './adapters/adapter-named.ts';
import type { CouchRole } from './adapters/store/couch/couch-access.ts';
import type { CouchCredentials } from './adapters/store/couch/couch-credentials.ts';
import { StoreInUseError } from './adapters/store/store.ts';
import { ConfigError, helpText, parseCli, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { EngineUnavailableError } from './model/engine-choice.ts';
import { PortInUseError, startRuntime } from './runtime.ts';
import { missingMnistFiles } from './train/mnist.ts';
import { VERSION } from './version.ts';

const USAGE_ERROR = 2;

async function main(): Promise<void> {
  let action;
  try {
    action = parseCli(Bun.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) usageError(error.message);
    throw error;
  }
  if (action.kind === 'help') return void process.stdout.write(helpText(VERSION));
  if (action.kind === 'version') return void process.stdout.write(`${VERSION}\n`);
  if (action.kind === 'probe') process.exit(await probe(action.url));
  if (action.kind === 'couchdb-keep') return keepCouch(action.config, action.users);
  const { config } = action;
  // Paths are not checked: they exist where the configuration will run (a pod), not where it is checked.
  if (action.kind === 'check') return void process.stdout.write(`configuration valid for ${action.what}\n`);
  // A mistyped --model or --mnist-dir is the user's error: say so now rather than retry or fail later.
  if ((config.role === 'trainer' || action.kind === 'evaluate') && !config.download) {
    // evaluate scores the test split only; it needs nothing else.
    const [missing] = missingMnistFiles(config.mnistDir, action.kind === 'evaluate' ? ['test'] : ['train', 'test']);
    if (missing) usageError(`--mnist-dir: no ${missing}(.gz) in ${config.mnistDir} (add --download to fetch it)`);
  }
  if ((config.role === 'trainer' || action.kind === 'evaluate') && config.backend !== null && config.backend !== 'wasm') {
    const { backendUnavailable } = await import('./train/training-backend.ts');
    const problem = await backendUnavailable(config.backend);
    if (problem) usageError(problem);
  }
  if (config.model) {
    for (const file of ['model.json', 'weights.bin']) {
      if (!(await Bun.file(join(config.model, file)).exists())) usageError(`--model: no ${file} in ${config.model}`);
    }
  }
  if (action.kind === 'feedback-export') process.exit(await feedbackExport(config, action.out));
  if (action.kind === 'model-trial') {
    const { runTrial } = await import('./model/trial-run.ts');
    process.exit(await runTrial(config.model!));
  }
  if (action.kind === 'evaluate') {
    // Loaded on demand: only this command and the trainer bring tfjs into the main thread.
    const { runEvaluate } = await import('./train/evaluate.ts');
    process.exit(await runEvaluate(config, action.json));
  }

  const logger = createLogger(config.logLevel);
  let running;
  try {
    running = await startRuntime(config, logger);
  } catch (error) {
    const mistake = startMistake(error, config);
    if (mistake) usageError(mistake);
    logger.fatal({ err: error }, 'could not start');
    // Said on stderr too, as every other failure is: the log may be silenced or collected elsewhere.
    process.stderr.write(`stratus: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  keepAliveOnStrayErrors(logger);

  let stopping = false;
  const stopAndExit = (code: number) => {
    stopping = true;
    // A second signal, or a drain that overruns, must still end the process.
    const deadline = setTimeout(() => {
      process.stderr.write(`stratus: stopping took longer than --shutdown-timeout-ms ${config.shutdownTimeoutMs} and 1.5 s to close; exiting unclean\n`);
      process.exit(1);
    }, config.shutdownTimeoutMs + 1_500);
    running.stop().then(
      () => {
        clearTimeout(deadline);
        process.exit(code);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.stderr.write(`stratus: unclean stop: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(1);
      },
    );
  };
  const shutdown = (signal: string) => {
    if (stopping) return;
    logger.info({ signal }, 'signal received');
    // A trainer stopped early wrote no model: as a Kubernetes Job it has not succeeded.
    if (running.finished) process.stderr.write(`stratus: training interrupted by ${signal}; no model written\n`);
    stopAndExit(running.finished ? 1 : 0);
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));

  // The trainer role is a job: it ends when its model is written, or fails with one line saying why.
  running.finished?.then(
    () => {
      if (!stopping) stopAndExit(0);
    },
    (error: unknown) => {
      if (stopping) return;
      logger.error({ err: error }, 'training failed');
      process.stderr.write(`stratus: training failed: ${error instanceof Error ? error.message : String(error)}\n`);
      stopAndExit(1);
    },
  );
}

/** The one line for a start that failed on the user's setup rather than on a fault; null for a fault. */
function startMistake(error: unknown, config: Config): string | null {
  if (error instanceof UnknownAdapterError) return error.message;
  if (error instanceof EngineUnavailableError) return error.message;
  if (error instanceof PortInUseError) return `${error.message}: is another stratus running? Stop it, or give this one another --port (or --share-port to share it on purpose)`;
  if (error instanceof StoreInUseError) {
    return `--data-dir ${config.dataDir} is in use by another process: is another stratus running on it? Stop it, give this one another --data-dir, or publish through it with --publish-url`;
  }
  return null;
}

/** `stratus feedback export`: 0 with one line saying what was written; 1 with one line saying why not. */
async function feedbackExport(config: Config, out: string): Promise<number> {
  const [{ createStore }, { exportFeedback }] = await Promise.all([import('./adapters/store/registry.ts'), import('./train/feedback-export.ts')]);
  const store = await createStore(config.store, config);
  try {
    await store.open();
    const count = await exportFeedback(store, out);
    process.stdout.write(`exported ${count} feedback samples to ${out}\n`);
    return 0;
  } catch (error) {
    // leveldb lets one process hold the directory: a running local stratus has it.
    const why = error instanceof StoreInUseError ? `--data-dir ${config.dataDir} is in use by a running stratus: stop it, then export` : error instanceof Error ? error.message : String(error);
    process.stderr.write(`stratus: feedback export failed: ${why}\n`);
    return 1;
  } finally {
    await store.close().catch(() => {});
  }
}

/** `stratus couchdb keep`: runs until SIGTERM or SIGINT (exit 0); a failed start is one line and exit 1. */
async function keepCouch(config: Config, users: ReadonlyMap<CouchRole, CouchCredentials>): Promise<void> {
  const [{ startCouchKeeper }, { retentionOf }] = await Promise.all([import('./adapters/store/couch/couch-keeper.ts'), import('./adapters/store/registry.ts')]);
  const logger = createLogger(config.logLevel);
  // Heard from the start: a signal during start-up stops the keeper once it has started.
  const signalled = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  let keeper;
  try {
    const options = { url: config.couchdbUrl!, prefix: config.couchdbPrefix, credentials: config.couchdbCredentials, retention: retentionOf(config) };
    keeper = await startCouchKeeper(options, users, config.couchdbGatewayPublishes, logger);
  } catch (error) {
    process.stderr.write(`stratus: couchdb keep could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
  keepAliveOnStrayErrors(logger);
  // The store's timers do not hold the process open (a role's server does that); this does, till a signal.
  const alive = setInterval(() => {}, 2 ** 30);
  logger.info({ signal: await signalled }, 'signal received');
  clearInterval(alive);
  await keeper.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

/** 0 when the URL answers 2xx within 2 s, else 1: what a container HEALTHCHECK needs. */
async function probe(url: string): Promise<number> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return response.ok ? 0 : 1;
  } catch {
    return 1;
  }
}

function usageError(message: string): never {
  process.stderr.write(`stratus: ${message}\n`);
  process.exit(USAGE_ERROR);
}

// One stray error must not end the service: log it and keep serving; supervision handles actors.
// (initWasmBackend drops the rethrowing handlers that tfjs's emscripten glue would add.)
function keepAliveOnStrayErrors(logger: ReturnType<typeof createLogger>): void {
  process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

await main();
