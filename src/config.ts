// The one place where defaults, environment and flags become a typed, frozen Config.
// Every bad input is a ConfigError: main prints its message on one line and exits with code 2.
import { ARCHS, type ArchName } from './train/arch-names.ts';

export const ROLES = ['gateway', 'consumer', 'trainer', 'all'] as const;
export const TRANSPORTS = ['memory', 'kafka'] as const;
export const STORES = ['pouchdb', 'memory', 'couchdb'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const INFERENCE_THREADS = ['main', 'worker'] as const;
export type InferenceThread = (typeof INFERENCE_THREADS)[number];
export type Role = (typeof ROLES)[number];
export type TransportName = (typeof TRANSPORTS)[number];
export type StoreName = (typeof STORES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface Config {
  readonly role: Role;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly transport: TransportName;
  readonly store: StoreName;
  /** Directory holding model.json + weights.bin; null means the model embedded in the binary. */
  readonly model: string | null;
  readonly logLevel: LogLevel;
  /** Dynamic batching: a batch closes when it holds this many images… */
  readonly maxBatch: number;
  /** …or when its first image has waited this long. */
  readonly maxWaitMs: number;
  /** Requests the gateway holds at once before it answers 503. */
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly maxBodyBytes: number;
  readonly shutdownTimeoutMs: number;
  /** Where the consumer runs the model: on the main thread, or in a worker thread of its own. */
  readonly inference: InferenceThread;
  // The trainer role's run: MNIST in, a --model directory out.
  /** Directory with the MNIST IDX files (gzipped or not). */
  readonly mnistDir: string;
  readonly arch: ArchName;
  readonly epochs: number;
  readonly batchSize: number;
  /** Training samples per epoch at most; 0 means all of them. */
  readonly maxSamples: number;
  /** Seeds the weight initialisers, the validation split and the shuffles. */
  readonly seed: number;
  /** Where the trained model.json, weights.bin and metadata.json go. */
  readonly out: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type CliAction = { kind: 'run'; config: Config } | { kind: 'help' } | { kind: 'version' };

type Parser = (raw: string, source: string) => unknown;

interface Option {
  key: keyof Config;
  flag: string;
  env: string;
  parse: Parser;
  help: string;
}

const oneOf =
  <T extends string>(choices: readonly T[]): Parser =>
  (raw, source) => {
    if ((choices as readonly string[]).includes(raw)) return raw;
    throw new ConfigError(`${source}: '${raw}' is not one of ${choices.join('|')}`);
  };

const integer =
  (min: number, max: number): Parser =>
  (raw, source) => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new ConfigError(`${source}: '${raw}' is not an integer in ${min}..${max}`);
    }
    return value;
  };

const text: Parser = (raw, source) => {
  if (raw.trim() === '') throw new ConfigError(`${source}: must not be empty`);
  return raw;
};

const OPTIONS: readonly Option[] = [
  { key: 'role', flag: 'role', env: 'STRATUS_ROLE', parse: oneOf(ROLES), help: 'gateway|consumer|trainer|all (default all)' },
  { key: 'host', flag: 'host', env: 'STRATUS_HOST', parse: text, help: 'address to listen on (default 127.0.0.1)' },
  { key: 'port', flag: 'port', env: 'STRATUS_PORT', parse: integer(0, 65535), help: 'HTTP port; 0 picks a free one (default 3000)' },
  { key: 'dataDir', flag: 'data-dir', env: 'STRATUS_DATA_DIR', parse: text, help: 'where the local store keeps its files (default ./stratus-data)' },
  { key: 'transport', flag: 'transport', env: 'STRATUS_TRANSPORT', parse: oneOf(TRANSPORTS), help: 'memory|kafka (default memory)' },
  { key: 'store', flag: 'store', env: 'STRATUS_STORE', parse: oneOf(STORES), help: 'pouchdb|memory|couchdb (default pouchdb)' },
  { key: 'model', flag: 'model', env: 'STRATUS_MODEL', parse: text, help: 'directory with model.json + weights.bin (default: embedded model)' },
  { key: 'logLevel', flag: 'log-level', env: 'STRATUS_LOG_LEVEL', parse: oneOf(LOG_LEVELS), help: 'trace|debug|info|warn|error|fatal|silent (default info)' },
  { key: 'maxBatch', flag: 'max-batch', env: 'STRATUS_MAX_BATCH', parse: integer(1, 1024), help: 'images per inference batch at most (default 64)' },
  { key: 'maxWaitMs', flag: 'max-wait-ms', env: 'STRATUS_MAX_WAIT_MS', parse: integer(0, 1000), help: 'longest wait to fill a batch, ms (default 2)' },
  { key: 'maxInFlight', flag: 'max-in-flight', env: 'STRATUS_MAX_IN_FLIGHT', parse: integer(1, 1_000_000), help: 'requests held at once before 503 (default 2048)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', env: 'STRATUS_REQUEST_TIMEOUT_MS', parse: integer(1, 600_000), help: 'answer 504 after this long (default 10000)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'STRATUS_MAX_BODY_BYTES', parse: integer(1024, 1 << 30), help: 'largest request body (default 16 MiB)' },
  { key: 'inference', flag: 'inference', env: 'STRATUS_INFERENCE', parse: oneOf(INFERENCE_THREADS), help: 'worker|main: the thread that runs the model (default worker)' },
  { key: 'shutdownTimeoutMs', flag: 'shutdown-timeout-ms', env: 'STRATUS_SHUTDOWN_TIMEOUT_MS', parse: integer(0, 60_000), help: 'drain time on SIGTERM (default 8000)' },
  { key: 'mnistDir', flag: 'mnist-dir', env: 'STRATUS_MNIST_DIR', parse: text, help: 'trainer: directory with the MNIST IDX files (default ./mnist)' },
  { key: 'arch', flag: 'arch', env: 'STRATUS_ARCH', parse: oneOf(ARCHS), help: 'trainer: seed|default model architecture (default default)' },
  { key: 'epochs', flag: 'epochs', env: 'STRATUS_EPOCHS', parse: integer(1, 1000), help: 'trainer: passes over the training set (default 6)' },
  { key: 'batchSize', flag: 'batch-size', env: 'STRATUS_BATCH_SIZE', parse: integer(1, 4096), help: 'trainer: images per training step (default 64)' },
  { key: 'maxSamples', flag: 'max-samples', env: 'STRATUS_MAX_SAMPLES', parse: integer(0, 1_000_000_000), help: 'trainer: training images per epoch at most, 0 = all (default 0)' },
  { key: 'seed', flag: 'seed', env: 'STRATUS_SEED', parse: integer(0, 2 ** 32 - 1), help: 'trainer: seed of initialisers, split and shuffles (default 42)' },
  { key: 'out', flag: 'out', env: 'STRATUS_OUT', parse: text, help: 'trainer: directory for the trained model (default ./stratus-model)' },
];

export const DEFAULTS: Config = Object.freeze({
  role: 'all',
  host: '127.0.0.1',
  port: 3000,
  dataDir: './stratus-data',
  transport: 'memory',
  store: 'pouchdb',
  model: null,
  logLevel: 'info',
  maxBatch: 64,
  maxWaitMs: 2,
  maxInFlight: 2048,
  requestTimeoutMs: 10_000,
  maxBodyBytes: 16 * 1024 * 1024,
  shutdownTimeoutMs: 8_000,
  inference: 'worker',
  mnistDir: './mnist',
  arch: 'default',
  epochs: 6,
  batchSize: 64,
  maxSamples: 0,
  seed: 42,
  out: './stratus-model',
});

/** Defaults, then environment, then flags; the result is frozen and checked as a whole. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliAction {
  const values: Record<string, unknown> = { ...DEFAULTS };
  for (const option of OPTIONS) {
    const raw = env[option.env];
    if (raw !== undefined && raw !== '') values[option.key] = option.parse(raw, option.env);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const option = OPTIONS.find((o) => o.flag === name);
    if (!option) throw new ConfigError(`unknown flag --${name} (see --help)`);
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else raw = argv[++i];
    if (raw === undefined) throw new ConfigError(`--${name} needs a value`);
    values[option.key] = option.parse(raw, `--${name}`);
  }
  const config = Object.freeze(values) as unknown as Config;
  checkCombination(config);
  return { kind: 'run', config };
}

function checkCombination(config: Config): void {
  // In-process queues cannot connect separate processes, so a split role needs a networked transport.
  if (config.transport === 'memory' && (config.role === 'gateway' || config.role === 'consumer')) {
    throw new ConfigError(`--role ${config.role} needs --transport kafka (memory only joins roles inside one process)`);
  }
}

export function helpText(version: string): string {
  const width = Math.max(...OPTIONS.map((o) => o.flag.length)) + 4;
  const lines = OPTIONS.map((o) => `  --${o.flag.padEnd(width)}${o.help}  [${o.env}]`);
  return [
    `stratus ${version}: handwritten digit recognition (gateway, consumer and trainer in one binary)`,
    '',
    'Usage: stratus [flags]        flags override environment variables, which override defaults',
    '',
    ...lines,
    `  --${'help'.padEnd(width)}print this help`,
    `  --${'version'.padEnd(width)}print the version`,
    '',
  ].join('\n');
}
