// The one place where defaults, environment and flags become a typed, frozen Config.
// Every bad input is a ConfigError: main prints its message on one line and exits with code 2.
// The choices a flag offers come from the layer that owns them (the adapter registries, train/, log.ts):
// this file lists none of its own, and is imported only by the actors, the runtime and main (and, for the
// shapes of its rate limits, by the HTTP layer's admission).
import { isIP } from 'node:net';
import { COUCH_ROLES, type CouchRole } from './adapters/store/couch/couch-access.ts';
import { CouchSettingsError, readRoleUsers, resolveCouchConnection, type CouchCredentials } from './adapters/store/couch/couch-credentials.ts';
import { STORE_NAMES, storeAdapter, type StoreName, type StoreSettings } from './adapters/store/registry.ts';
import { DEFAULT_RETENTION } from './adapters/store/store.ts';
import { DEFAULT_TRIAL_MEMORY_MB } from './model/model-trial.ts';
import { KafkaSettingsError, SASL_MECHANISMS, resolveKafkaSecurity, type KafkaSasl, type KafkaTls, type SaslMechanism } from './adapters/transport/kafka/security.ts';
import { TRANSPORT_NAMES, transportAdapter, type TransportName, type TransportSettings } from './adapters/transport/registry.ts';
import { LOG_LEVELS, type LogLevel } from './log.ts';
import { ENGINES, type EngineName } from './model/engines.ts';
import { Secret } from './secret.ts';
import { ARCHS, type ArchName } from './train/arch-names.ts';
import { TRAINING_BACKENDS, type TrainingBackend } from './train/backend-names.ts';
import { DEFAULT_MNIST_URL } from './train/mnist-download.ts';
import { SYNC_MODES, type SyncMode } from './train/parallel/sync-modes.ts';
import { LR_SCHEDULES, type LrSchedule } from './train/recipe.ts';

export const ROLES = ['gateway', 'consumer', 'trainer', 'all'] as const;
/** The serving roles' port when --port does not say; a trainer run beside them then takes none. */
export const DEFAULT_PORT = 3000;

/** The port the process listens on: --port, else DEFAULT_PORT, except that a trainer listens only when
 * given one (a trainer beside a running demo must not take its port). */
export function listenPort(config: Pick<Config, 'port' | 'role'>): number | null {
  return config.port ?? (config.role === 'trainer' ? null : DEFAULT_PORT);
}
export const INFERENCE_THREADS = ['main', 'worker'] as const;
export type InferenceThread = (typeof INFERENCE_THREADS)[number];
export type Role = (typeof ROLES)[number];
/** The gateway's rate-limited kinds of request (src/http/admission.ts sorts each route into one). */
export const ROUTE_CLASSES = ['page', 'api', 'admin'] as const;
export type RouteClass = (typeof ROUTE_CLASSES)[number];
/** Requests a client may send at once (`burst`), and how many more each second; null: no limit. */
export type RateLimit = { readonly perSecond: number; readonly burst: number } | null;

export interface Config {
  readonly role: Role;
  readonly host: string;
  /** HTTP port; null: the role's default (DEFAULT_PORT, or none for the trainer). */
  readonly port: number | null;
  /** Let other processes listen on the same port (SO_REUSEPORT): replicas behind one address. */
  readonly sharePort: boolean;
  /** A second port, same host, for /metrics, the model admin endpoints and dashboard, which --port then
   * no longer serves; null: everything on --port. */
  readonly adminPort: number | null;
  /** With adminPort: a third port for /metrics alone, which the admin port then no longer serves. */
  readonly metricsPort: number | null;
  readonly dataDir: string;
  /** Results and history entries are dropped this long after they were written. */
  readonly retentionMs: number;
  /** History entries kept per session. */
  readonly historyLimit: number;
  /** Feedback samples kept. */
  readonly feedbackLimit: number;
  readonly transport: TransportName;
  readonly store: StoreName;
  /** Directory holding model.json + weights.bin; null means the model embedded in the binary. */
  readonly model: string | null;
  /** The memory cap of a published model's trial load (model-trial.ts). */
  readonly trialMemoryMb: number;
  readonly logLevel: LogLevel;
  /** Dynamic batching: a batch closes when it holds this many images… */
  readonly maxBatch: number;
  /** …or when its first image has waited this long. */
  readonly maxWaitMs: number;
  /** Requests the gateway holds at once, shared among the clients (src/flow/fair-share.ts); 503 beyond. */
  readonly maxInFlight: number;
  readonly requestTimeoutMs: number;
  /** A message with no reply after max(this, 4 × recent p99) is sent once more (0: never). */
  readonly hedgeAfterMs: number;
  /** Hedges a gateway sends per second at most (bursts up to as many). */
  readonly maxHedgesPerSecond: number;
  /** Largest request body accepted, in bytes (413 beyond). */
  readonly maxBodyBytes: number;
  /** Per client (session cookie, else address) and kind of request. */
  readonly rateLimits: Readonly<Record<RouteClass, RateLimit>>;
  /** Addresses and CIDR ranges of proxies whose X-Forwarded-For names the client. */
  readonly trustedProxies: readonly string[];
  /** Session cookies named `__Host-` and always Secure: for a deployment reached only over https. */
  readonly secureCookies: boolean;
  readonly shutdownTimeoutMs: number;
  /** Where the consumer runs the model: on the main thread, or in a worker thread of its own. */
  readonly inference: InferenceThread;
  /** What runs the consumer's model; null: onnx where ONNX Runtime loads, else wasm (src/model/engine-choice.ts). */
  readonly engine: EngineName | null;
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
  /** trainer, evaluate: what computes (onnx: ONNX Runtime; wasm: tfjs, embedded; tensorflow: tfjs-node, where it
   * installs); null: onnx where ONNX Runtime loads, else wasm (src/train/training-backend.ts). */
  readonly backend: TrainingBackend | null;
  /** Fetch the MNIST files that --mnist-dir lacks from `mnistUrl` (md5-checked) instead of failing. */
  readonly download: boolean;
  readonly mnistUrl: string;
  /** Distort training images on the fly (shift, rotation, scale, stroke width); null: the arch's default. */
  readonly augment: boolean | null;
  /** Trainer: store the trained model as a new version in --store, make it the serving one, announce it. */
  readonly publish: boolean;
  /** Trainer: publish through a running gateway's admin endpoint instead (POST <url>/api/models). */
  readonly publishUrl: string | null;
  /** Trainer: also train on the labelled feedback samples in --store (src/train/feedback.ts). */
  readonly includeFeedback: boolean;
  /** Trainer: start from this model directory's weights (fine-tuning) instead of random ones. */
  readonly initModel: string | null;
  /** Trainer: Adam's first learning rate (decayed by 0.7 per epoch); null: 0.001. */
  readonly learningRate: number | null;
  /** Trainer: how the learning rate falls (src/train/recipe.ts, learningRateAt). */
  readonly lrSchedule: LrSchedule;
  readonly cleanEpochs: number;
  /** Trainer: model directories to distil from (src/train/soft-targets.ts); empty: train on the labels. */
  readonly teachers: readonly string[];
  /** STRATUS_ADMIN_TOKEN (environment only): the bearer token of the admin endpoints; null disables them. */
  readonly adminToken: Secret | null;
  /** STRATUS_SESSION_KEY (environment only): signs session cookies; every gateway of a deployment needs the same. */
  readonly sessionKey: Secret | null;
  /** --store couchdb: the server, without userinfo (any in --couchdb-url moved to couchdbCredentials). */
  readonly couchdbUrl: string | null;
  /** Prepended to the store's database names, so deployments can share a server. */
  readonly couchdbPrefix: string;
  /** A mounted Secret with files `username` and `password`; beats COUCHDB_USER / COUCHDB_PASSWORD. */
  readonly couchdbSecretDir: string | null;
  /** Prints and serialises without the password. */
  readonly couchdbCredentials: CouchCredentials | null;
  /** `stratus couchdb keep`: a directory of one directory per role (gateway/, consumer/, trainer/),
   * each with files username and password: the users it makes. */
  readonly couchdbUsersDir: string | null;
  /** `stratus couchdb keep`: the gateway's user may write models and settings (gateways serve the admin API). */
  readonly couchdbGatewayPublishes: boolean;
  /** --transport kafka: bootstrap brokers, host:port each. */
  readonly kafkaBrokers: readonly string[];
  /** Partitions of each topic the Kafka transport creates. */
  readonly kafkaPartitions: number;
  /** Copies of each partition; 3 with min.insync.replicas 2 survives one broker down. */
  readonly kafkaReplication: number;
  readonly kafkaClientId: string;
  /** The static member id (group.instance.id) this process joins its consumer groups as; ops/k8s gives a
   * consumer its pod's name, so a container restarted in its pod takes its partitions back at once. */
  readonly kafkaGroupInstanceId: string | null;
  /** TLS to the brokers (their certificates checked against `kafkaCaFile`, else the system's CAs). */
  readonly kafkaSsl: boolean;
  readonly kafkaCaFile: string | null;
  /** SASL: null means scram-sha-512 when a user is given (src/adapters/transport/kafka/security.ts). */
  readonly kafkaSaslMechanism: SaslMechanism | null;
  readonly kafkaSaslUsername: string | null;
  /** A mounted Secret with files `username` and `password`; beats STRATUS_KAFKA_SASL_USERNAME / _PASSWORD. */
  readonly kafkaSecretDir: string | null;
  /** --transport kafka: what the settings above resolve to (the CA read, the password from
   * STRATUS_KAFKA_SASL_PASSWORD or the secret directory, as a Secret); null: plain TCP, no user. */
  readonly kafkaTls: KafkaTls | null;
  readonly kafkaSasl: KafkaSasl | null;
  /** Trainer: worker threads training one model together (src/train/parallel/); 1 trains on the main thread. */
  readonly workers: number;
  /** --workers > 1: average the gradients every step, or the weights every `syncEvery` steps. */
  readonly sync: SyncMode;
  readonly syncEvery: number;
  /** Trainer across processes (src/train/distributed/): this process's rank, of `worldSize` ranks. */
  readonly rank: number;
  readonly worldSize: number;
  /** Names the run's topics and checkpoints; null: derived from the recipe (src/train/distributed/job-id.ts). */
  readonly jobId: string | null;
  /** --world-size > 1: how long a rank waits for the others before it fails the run. */
  readonly peerTimeoutMs: number;
  /** --world-size > 1: keep the job's checkpoints once it has succeeded. */
  readonly keepCheckpoints: boolean;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export type CliAction =
  | { kind: 'run'; config: Config }
  | { kind: 'evaluate'; config: Config; json: boolean }
  /** `stratus feedback export --out FILE`: the feedback samples in --store, as JSON lines. */
  | { kind: 'feedback-export'; config: Config; out: string }
  /** `--check-config`: the configuration is valid; nothing starts (for deployment checks). */
  | { kind: 'check'; config: Config; what: string }
  /** `stratus couchdb keep`: users, database security, periods ahead and the retention sweep, as admin. */
  | { kind: 'couchdb-keep'; config: Config; users: ReadonlyMap<CouchRole, CouchCredentials> }
  /** `stratus model trial --model DIR`: the capped load a publish asks for (model-trial.ts). */
  | { kind: 'model-trial'; config: Config }
  /** `stratus probe URL`: a health check for images that have no curl. */
  | { kind: 'probe'; url: string }
  | { kind: 'help' }
  | { kind: 'version' };

/** `stratus evaluate` reads data and a model, nothing else: any other flag is a mistake worth reporting. */
const EVALUATE_FLAGS = ['mnist-dir', 'model', 'download', 'mnist-url', 'log-level', 'backend'];
/** `stratus feedback export` reads one store and writes one file. */
const FEEDBACK_EXPORT_FLAGS = ['out', 'store', 'data-dir', 'couchdb-url', 'couchdb-prefix', 'couchdb-secret-dir', 'log-level'];
/** `stratus model trial` loads one model directory; its parent watches its memory. */
const MODEL_TRIAL_FLAGS = ['model', 'log-level'];
/** `stratus couchdb keep` talks to CouchDB as its admin and nothing else; it sweeps with the roles' retention. */
const COUCHDB_KEEP_FLAGS = ['couchdb-url', 'couchdb-prefix', 'couchdb-secret-dir', 'couchdb-users-dir', 'couchdb-gateway-publishes', 'retention', 'history-limit', 'feedback-limit', 'log-level'];

/** The commands that run no role, by the words that name them: the flags each takes, and its usage line
 * (what a wrong second word gets). */
interface Subcommand {
  readonly words: readonly [string] | readonly [string, string];
  readonly flags: readonly string[];
  readonly usage: string;
}
const SUBCOMMANDS: readonly Subcommand[] = [
  { words: ['evaluate'], flags: EVALUATE_FLAGS, usage: 'usage: stratus evaluate --mnist-dir DIR [--model DIR] [--json]' },
  { words: ['feedback', 'export'], flags: FEEDBACK_EXPORT_FLAGS, usage: 'usage: stratus feedback export --out FILE [--store pouchdb|couchdb ...]' },
  { words: ['couchdb', 'keep'], flags: COUCHDB_KEEP_FLAGS, usage: 'usage: stratus couchdb keep --couchdb-url URL --couchdb-users-dir DIR [...]' },
  { words: ['model', 'trial'], flags: MODEL_TRIAL_FLAGS, usage: 'usage: stratus model trial --model DIR' },
];

type Parser = (raw: string, source: string) => unknown;

interface Option {
  key: keyof Config;
  flag: string;
  env: string;
  /** A conventional variable read when `env` is unset (COUCHDB_URL for STRATUS_COUCHDB_URL). */
  envFallback?: string;
  parse: Parser;
  help: string;
  /** An on/off flag: `--flag` alone means true (`--flag=false` and the environment still take a value). */
  switch?: true;
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

const positiveNumber =
  (max: number): Parser =>
  (raw, source) => {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > max) throw new ConfigError(`${source}: '${raw}' is not a number in (0, ${max}]`);
    return value;
  };

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A length of time such as 30d, 12h, 90m or 5s: at least one second, at most ten years. */
const duration: Parser = (raw, source) => {
  const match = /^(\d{1,9})([smhdw])$/.exec(raw.trim());
  const ms = match ? Number(match[1]) * (DURATION_UNITS_MS[match[2] as string] as number) : Number.NaN;
  if (!(ms >= 1_000 && ms <= 3_650 * 86_400_000)) throw new ConfigError(`${source}: '${raw}' is not a duration from 1s to 3650d (a number and s, m, h, d or w)`);
  return ms;
};

const brokerList: Parser = (raw, source) => {
  const brokers = raw.split(',').map((b) => b.trim()).filter(Boolean);
  const bad = brokers.find((b) => !/^[^\s:]+:\d{1,5}$/.test(b) || Number(b.slice(b.lastIndexOf(':') + 1)) > 65535);
  if (brokers.length === 0 || bad !== undefined) throw new ConfigError(`${source}: '${bad ?? raw}' is not a host:port list`);
  return Object.freeze(brokers);
};

const boolean: Parser = (raw, source) => {
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new ConfigError(`${source}: '${raw}' is not true|false`);
};

const httpUrl: Parser = (raw, source) => {
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError(`${source}: '${raw}' is not an http(s) URL`);
  return raw;
};

/** Names this machine alone: traffic to it never crosses a network someone else can read. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

/** A URL that requests will carry the admin token to: https, or plain http only to this machine. */
const tokenBearingUrl: Parser = (raw, source) => {
  httpUrl(raw, source);
  const url = new URL(raw);
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new ConfigError(`${source}: http:// would send the admin token in clear; use https:// (plain http only to a loopback address)`);
  }
  return raw;
};

/** 128 bits as hex (`openssl rand -hex 16`): a shorter admin token or session key can be guessed. */
export const MIN_SECRET_LENGTH = 32;

/** A secret from the environment only (a flag would show it in the process list); never echoed. */
function secretFrom(env: Record<string, string | undefined>, name: string): Secret | null {
  const value = env[name];
  if (value === undefined || value === '') return null;
  if (value.length < MIN_SECRET_LENGTH) throw new ConfigError(`${name} has ${value.length} characters; use at least ${MIN_SECRET_LENGTH} (openssl rand -hex 16)`);
  return new Secret(value);
}

// Unlike httpUrl it never echoes the value, which may carry a password.
const serverUrl: Parser = (raw, source) => {
  if (!URL.canParse(raw) || !/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError(`${source}: not an http(s) URL`);
  return raw;
};

const couchPrefix: Parser = (raw, source) => {
  if (!/^[a-z][a-z0-9_$()+-]*$/.test(raw)) throw new ConfigError(`${source}: '${raw}' is not a database name prefix (a-z first, then a-z 0-9 _$()+-)`);
  return raw;
};

/** `api=100/200,page=off`: per kind of request, requests/s and burst, or off; kinds not named keep their default. */
const rateLimits: Parser = (raw, source) => {
  const limits: Record<string, RateLimit> = { ...DEFAULTS.rateLimits };
  for (const part of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const match = /^([a-z]+)=(?:off|(\d+(?:\.\d+)?)\/(\d+))$/.exec(part);
    const kind = match?.[1];
    if (!match || !(ROUTE_CLASSES as readonly string[]).includes(kind as string)) {
      throw new ConfigError(`${source}: '${part}' is not ${ROUTE_CLASSES.join('|')}=<per second>/<burst> or =off`);
    }
    const perSecond = Number(match[2]);
    const burst = Number(match[3]);
    if (match[2] !== undefined && !(perSecond > 0 && burst >= 1)) throw new ConfigError(`${source}: '${part}' needs a rate above 0 and a burst of 1 or more`);
    limits[kind as string] = match[2] === undefined ? null : Object.freeze({ perSecond, burst });
  }
  return Object.freeze(limits);
};

/** Addresses (IPv4 or IPv6) or CIDR ranges, comma-separated. */
const addressRanges: Parser = (raw, source) => {
  const ranges = raw.split(',').map((r) => r.trim()).filter(Boolean);
  for (const range of ranges) {
    const [address, prefix, extra] = range.split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const validPrefix = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !validPrefix || extra !== undefined) throw new ConfigError(`${source}: '${range}' is not an IP address or CIDR range`);
  }
  return Object.freeze(ranges);
};

const text: Parser = (raw, source) => {
  if (raw.trim() === '') throw new ConfigError(`${source}: must not be empty`);
  return raw;
};

const pathList: Parser = (raw, source) => {
  const paths = raw.split(',').map((p) => p.trim());
  if (paths.some((p) => p === '')) throw new ConfigError(`${source}: '${raw}' is not a comma-separated list of directories`);
  return Object.freeze(paths);
};

const OPTIONS: readonly Option[] = [
  { key: 'role', flag: 'role', env: 'STRATUS_ROLE', parse: oneOf(ROLES), help: 'gateway|consumer|trainer|all (default all)' },
  { key: 'host', flag: 'host', env: 'STRATUS_HOST', parse: text, help: 'address to listen on (default 127.0.0.1)' },
  { key: 'port', flag: 'port', env: 'STRATUS_PORT', parse: integer(0, 65535), help: `HTTP port of the page, the API and probes (and of metrics and admin, without --admin-port); 0 picks a free one (default ${DEFAULT_PORT}; the trainer listens only when given one)` },
  { key: 'adminPort', flag: 'admin-port', env: 'STRATUS_ADMIN_PORT', parse: integer(0, 65535), help: 'a second port, on --host, for /metrics, the admin endpoints (models, feedback review) and /models, which --port then no longer serves: expose --port, never this one (default none: all on --port)' },
  { key: 'metricsPort', flag: 'metrics-port', env: 'STRATUS_METRICS_PORT', parse: integer(0, 65535), help: 'with --admin-port: a third port for /metrics alone, which the admin port then no longer serves: the one Prometheus reaches (default none: metrics on the admin port)' },
  { key: 'sharePort', flag: 'share-port', env: 'STRATUS_SHARE_PORT', parse: boolean, switch: true, help: 'let other processes listen on the same --port (SO_REUSEPORT); without it a port in use is an error' },
  { key: 'dataDir', flag: 'data-dir', env: 'STRATUS_DATA_DIR', parse: text, help: 'where the local store keeps its files (default ./stratus-data)' },
  { key: 'retentionMs', flag: 'retention', env: 'STRATUS_RETENTION', parse: duration, help: 'keep prediction results and history this long, e.g. 30d, 12h, 5s; dropped whole by period (default 30d)' },
  { key: 'historyLimit', flag: 'history-limit', env: 'STRATUS_HISTORY_LIMIT', parse: integer(1, 1_000_000), help: 'entries listed per session history, newest first (default 100)' },
  { key: 'feedbackLimit', flag: 'feedback-limit', env: 'STRATUS_FEEDBACK_LIMIT', parse: integer(1, 100_000_000), help: 'feedback samples kept (not expired by --retention); past it, a session\'s surplus, rejected and pending samples go first (default 100000)' },
  { key: 'transport', flag: 'transport', env: 'STRATUS_TRANSPORT', parse: oneOf(TRANSPORT_NAMES), help: `${TRANSPORT_NAMES.join('|')} (default memory)` },
  { key: 'store', flag: 'store', env: 'STRATUS_STORE', parse: oneOf(STORE_NAMES), help: `${STORE_NAMES.join('|')} (default pouchdb)` },
  { key: 'model', flag: 'model', env: 'STRATUS_MODEL', parse: text, help: 'directory with model.json + weights.bin (default: embedded model)' },
  { key: 'trialMemoryMb', flag: 'trial-memory-mb', env: 'STRATUS_TRIAL_MEMORY_MB', parse: integer(64, 65_536), help: `a published model is first loaded in a process of its own, killed past this many MB resident, and refused if it fails there (default ${DEFAULT_TRIAL_MEMORY_MB})` },
  { key: 'logLevel', flag: 'log-level', env: 'STRATUS_LOG_LEVEL', parse: oneOf(LOG_LEVELS), help: `${LOG_LEVELS.join('|')} (default info)` },
  { key: 'maxBatch', flag: 'max-batch', env: 'STRATUS_MAX_BATCH', parse: integer(1, 1024), help: 'images per inference batch at most (default 64)' },
  { key: 'maxWaitMs', flag: 'max-wait-ms', env: 'STRATUS_MAX_WAIT_MS', parse: integer(0, 1000), help: 'longest wait to fill a batch, ms (default 2)' },
  { key: 'maxInFlight', flag: 'max-in-flight', env: 'STRATUS_MAX_IN_FLIGHT', parse: integer(1, 1_000_000), help: 'requests held at once, shared fairly among clients: 429 beyond a client\'s share, 503 beyond all (default 2048)' },
  { key: 'requestTimeoutMs', flag: 'request-timeout-ms', env: 'STRATUS_REQUEST_TIMEOUT_MS', parse: integer(1, 600_000), help: 'answer 504 after this long (default 10000)' },
  { key: 'hedgeAfterMs', flag: 'hedge-after-ms', env: 'STRATUS_HEDGE_AFTER_MS', parse: integer(0, 600_000), help: 'cluster: resend a message with no reply after max(this, min(4 × recent p99, request timeout / 10)) to a partition that answers; 0 never (default 250)' },
  { key: 'maxHedgesPerSecond', flag: 'max-hedges-per-second', env: 'STRATUS_MAX_HEDGES_PER_SECOND', parse: integer(1, 1_000_000), help: 'cluster: hedges per second at most (default 50)' },
  { key: 'maxBodyBytes', flag: 'max-body-bytes', env: 'STRATUS_MAX_BODY_BYTES', parse: integer(1024, 1 << 30), help: 'largest request body of the batched KServe route and model publishing; /api/predict and the page take 512 KiB at most (default 16 MiB)' },
  { key: 'rateLimits', flag: 'rate-limit', env: 'STRATUS_RATE_LIMIT', parse: rateLimits, help: 'per client: requests/s and burst by kind, e.g. api=100/200,page=20/40,admin=2/20; =off lifts one (defaults as in the example)' },
  { key: 'trustedProxies', flag: 'trusted-proxies', env: 'STRATUS_TRUSTED_PROXIES', parse: addressRanges, help: 'proxies (addresses or CIDR ranges) whose X-Forwarded-For names the client (default none)' },
  { key: 'secureCookies', flag: 'secure-cookies', env: 'STRATUS_SECURE_COOKIES', parse: boolean, switch: true, help: 'the session cookie as __Host-stratus_session, always Secure: for a site served only over https (default off)' },
  { key: 'inference', flag: 'inference', env: 'STRATUS_INFERENCE', parse: oneOf(INFERENCE_THREADS), help: 'worker|main: the thread that runs the model (default worker)' },
  { key: 'engine', flag: 'engine', env: 'STRATUS_ENGINE', parse: oneOf(ENGINES), help: `${ENGINES.join('|')}: what runs the model (default onnx where ONNX Runtime loads, else wasm with a warning; onnx asked for but not loading is an error)` },
  { key: 'shutdownTimeoutMs', flag: 'shutdown-timeout-ms', env: 'STRATUS_SHUTDOWN_TIMEOUT_MS', parse: integer(0, 60_000), help: 'drain time on SIGTERM (default 8000)' },
  { key: 'mnistDir', flag: 'mnist-dir', env: 'STRATUS_MNIST_DIR', parse: text, help: 'trainer: directory with the MNIST IDX files (default ./mnist)' },
  { key: 'arch', flag: 'arch', env: 'STRATUS_ARCH', parse: oneOf(ARCHS), help: 'trainer: seed|default|compact|lean model architecture (default default)' },
  { key: 'epochs', flag: 'epochs', env: 'STRATUS_EPOCHS', parse: integer(1, 1000), help: 'trainer: passes over the training set (default 6)' },
  { key: 'batchSize', flag: 'batch-size', env: 'STRATUS_BATCH_SIZE', parse: integer(1, 4096), help: 'trainer: images per training step (default 64)' },
  { key: 'maxSamples', flag: 'max-samples', env: 'STRATUS_MAX_SAMPLES', parse: integer(0, 1_000_000_000), help: 'trainer: training images per epoch at most, 0 = all (default 0)' },
  { key: 'seed', flag: 'seed', env: 'STRATUS_SEED', parse: integer(0, 2 ** 32 - 1), help: 'trainer: seed of initialisers, split and shuffles (default 42)' },
  { key: 'out', flag: 'out', env: 'STRATUS_OUT', parse: text, help: 'trainer: directory for the trained model (default ./stratus-model)' },
  { key: 'download', flag: 'download', env: 'STRATUS_DOWNLOAD', parse: boolean, switch: true, help: 'trainer, evaluate: fetch missing MNIST files (md5-checked)' },
  { key: 'mnistUrl', flag: 'mnist-url', env: 'STRATUS_MNIST_URL', parse: httpUrl, help: `mirror for --download (default ${DEFAULT_MNIST_URL})` },
  { key: 'backend', flag: 'backend', env: 'STRATUS_BACKEND', parse: oneOf(TRAINING_BACKENDS), help: 'trainer, evaluate: onnx|wasm|tensorflow (onnx = ONNX Runtime computes the gradients and scores; tensorflow = @tensorflow/tfjs-node, where it installs; default onnx where ONNX Runtime loads, else wasm with a warning)' },
  { key: 'augment', flag: 'augment', env: 'STRATUS_AUGMENT', parse: boolean, switch: true, help: 'trainer: random shifts, rotations, scaling, stroke width (default on, off for --arch seed)' },
  { key: 'publish', flag: 'publish', env: 'STRATUS_PUBLISH', parse: boolean, switch: true, help: 'trainer: store the model as a new version in --store and serve it (default off)' },
  { key: 'publishUrl', flag: 'publish-url', env: 'STRATUS_PUBLISH_URL', parse: tokenBearingUrl, help: 'trainer: publish through this gateway (admin token from STRATUS_ADMIN_TOKEN; https://, or http:// to a loopback address)' },
  { key: 'initModel', flag: 'init-model', env: 'STRATUS_INIT_MODEL', parse: text, help: 'trainer: start from this model directory (same --arch) instead of random weights' },
  { key: 'learningRate', flag: 'learning-rate', env: 'STRATUS_LEARNING_RATE', parse: positiveNumber(1), help: 'trainer: first learning rate (default 0.001)' },
  { key: 'lrSchedule', flag: 'lr-schedule', env: 'STRATUS_LR_SCHEDULE', parse: oneOf(LR_SCHEDULES), help: 'trainer: exponential (0.7x per epoch) or cosine (half a cosine to 0 over the epochs) (default exponential)' },
  { key: 'cleanEpochs', flag: 'clean-epochs', env: 'STRATUS_CLEAN_EPOCHS', parse: integer(0, 1_000_000), help: 'trainer: with --augment, the last N epochs train on undistorted images (default 0)' },
  { key: 'teachers', flag: 'teacher', env: 'STRATUS_TEACHER', parse: pathList, help: 'trainer: model directories, comma-separated, whose softened answers the model also learns (distillation; default none)' },
  { key: 'includeFeedback', flag: 'include-feedback', env: 'STRATUS_INCLUDE_FEEDBACK', parse: boolean, switch: true, help: 'trainer: also train on the labelled feedback samples in --store (default off)' },
  { key: 'couchdbUrl', flag: 'couchdb-url', env: 'STRATUS_COUCHDB_URL', envFallback: 'COUCHDB_URL', parse: serverUrl, help: '--store couchdb: the server (user from COUCHDB_USER/COUCHDB_PASSWORD)' },
  { key: 'couchdbPrefix', flag: 'couchdb-prefix', env: 'STRATUS_COUCHDB_PREFIX', parse: couchPrefix, help: 'database name prefix in CouchDB (default stratus_)' },
  { key: 'couchdbSecretDir', flag: 'couchdb-secret-dir', env: 'STRATUS_COUCHDB_SECRET_DIR', parse: text, help: 'directory with files username and password (a mounted Secret)' },
  { key: 'couchdbUsersDir', flag: 'couchdb-users-dir', env: 'STRATUS_COUCHDB_USERS_DIR', parse: text, help: 'couchdb keep: directory with gateway/, consumer/, trainer/, each holding username and password' },
  { key: 'couchdbGatewayPublishes', flag: 'couchdb-gateway-publishes', env: 'STRATUS_COUCHDB_GATEWAY_PUBLISHES', parse: boolean, switch: true, help: 'couchdb keep: the gateway user may write models and settings, for the admin API (default off)' },
  { key: 'kafkaBrokers', flag: 'kafka-brokers', env: 'STRATUS_KAFKA_BROKERS', envFallback: 'KAFKA_BROKERS', parse: brokerList, help: '--transport kafka: bootstrap brokers, host:port,...' },
  { key: 'kafkaPartitions', flag: 'kafka-partitions', env: 'STRATUS_KAFKA_PARTITIONS', parse: integer(1, 10_000), help: 'partitions of each topic the transport creates (default 6)' },
  { key: 'kafkaReplication', flag: 'kafka-replication', env: 'STRATUS_KAFKA_REPLICATION', parse: integer(1, 32), help: 'replication factor of those topics (default 1; 3 for a 3-broker cluster)' },
  { key: 'kafkaClientId', flag: 'kafka-client-id', env: 'STRATUS_KAFKA_CLIENT_ID', parse: text, help: 'client id shown in broker logs and quotas (default stratus)' },
  { key: 'kafkaGroupInstanceId', flag: 'kafka-group-instance-id', env: 'STRATUS_KAFKA_GROUP_INSTANCE_ID', parse: text, help: 'static member id in Kafka\'s consumer groups, unique per process and kept across its restarts (the pod\'s name); a restart then takes its partitions back without a rebalance (default none)' },
  { key: 'kafkaSsl', flag: 'kafka-ssl', env: 'STRATUS_KAFKA_SSL', parse: boolean, switch: true, help: 'TLS to the brokers, their certificates checked against the system\'s CAs or --kafka-ca-file (default off)' },
  { key: 'kafkaCaFile', flag: 'kafka-ca-file', env: 'STRATUS_KAFKA_CA_FILE', parse: text, help: '--kafka-ssl: PEM file of the CA(s) that signed the brokers\' certificates (default: the system\'s CAs)' },
  { key: 'kafkaSaslMechanism', flag: 'kafka-sasl-mechanism', env: 'STRATUS_KAFKA_SASL_MECHANISM', parse: oneOf(SASL_MECHANISMS), help: `SASL mechanism, ${SASL_MECHANISMS.join('|')} (default scram-sha-512 when a user is given; no SASL without one)` },
  { key: 'kafkaSaslUsername', flag: 'kafka-sasl-username', env: 'STRATUS_KAFKA_SASL_USERNAME', parse: text, help: 'SASL user; its password from STRATUS_KAFKA_SASL_PASSWORD (environment only) (default none)' },
  { key: 'kafkaSecretDir', flag: 'kafka-secret-dir', env: 'STRATUS_KAFKA_SECRET_DIR', parse: text, help: 'directory with files username and password of the SASL user (a mounted Secret); beats the two variables' },
  { key: 'workers', flag: 'workers', env: 'STRATUS_WORKERS', parse: integer(1, 64), help: 'trainer: worker threads training one model, data-parallel (default 1)' },
  { key: 'sync', flag: 'sync', env: 'STRATUS_SYNC', parse: oneOf(SYNC_MODES), help: 'trainer, --workers > 1: average gradients every step, or weights every --sync-every steps (default gradients)' },
  { key: 'syncEvery', flag: 'sync-every', env: 'STRATUS_SYNC_EVERY', parse: integer(1, 100_000), help: 'trainer, --sync weights: steps between weight averages (default 8)' },
  { key: 'rank', flag: 'rank', env: 'STRATUS_RANK', envFallback: 'JOB_COMPLETION_INDEX', parse: integer(0, 1023), help: 'trainer, --world-size > 1: this process\'s rank (default 0; a Kubernetes Indexed Job sets JOB_COMPLETION_INDEX)' },
  { key: 'worldSize', flag: 'world-size', env: 'STRATUS_WORLD_SIZE', parse: integer(1, 1024), help: 'trainer: processes training one model over --transport kafka (default 1)' },
  { key: 'jobId', flag: 'job-id', env: 'STRATUS_JOB_ID', parse: text, help: 'trainer, --world-size > 1: names the run\'s topics and checkpoints (default: derived from the recipe)' },
  { key: 'keepCheckpoints', flag: 'keep-checkpoints', env: 'STRATUS_KEEP_CHECKPOINTS', parse: boolean, switch: true, help: 'trainer, --world-size > 1: keep the job\'s checkpoints after it succeeds (default: only the newest is kept while it runs, none after)' },
  { key: 'peerTimeoutMs', flag: 'peer-timeout-ms', env: 'STRATUS_PEER_TIMEOUT_MS', parse: integer(100, 3_600_000), help: 'trainer, --world-size > 1: fail when a rank is silent this long (default 60000)' },
];

export const DEFAULTS: Config = Object.freeze({
  role: 'all',
  host: '127.0.0.1',
  port: null,
  sharePort: false,
  adminPort: null,
  metricsPort: null,
  dataDir: './stratus-data',
  retentionMs: DEFAULT_RETENTION.retentionMs,
  historyLimit: DEFAULT_RETENTION.historyLimit,
  feedbackLimit: DEFAULT_RETENTION.feedbackLimit,
  transport: 'memory',
  store: 'pouchdb',
  model: null,
  trialMemoryMb: DEFAULT_TRIAL_MEMORY_MB,
  logLevel: 'info',
  maxBatch: 64,
  maxWaitMs: 2,
  maxInFlight: 2048,
  requestTimeoutMs: 10_000,
  hedgeAfterMs: 250,
  maxHedgesPerSecond: 50,
  maxBodyBytes: 16 * 1024 * 1024,
  rateLimits: Object.freeze({
    page: Object.freeze({ perSecond: 20, burst: 40 }),
    api: Object.freeze({ perSecond: 100, burst: 200 }),
    admin: Object.freeze({ perSecond: 2, burst: 20 }),
  }),
  trustedProxies: Object.freeze([]),
  secureCookies: false,
  shutdownTimeoutMs: 8_000,
  inference: 'worker',
  engine: null,
  mnistDir: './mnist',
  arch: 'default',
  epochs: 6,
  batchSize: 64,
  maxSamples: 0,
  seed: 42,
  out: './stratus-model',
  download: false,
  mnistUrl: DEFAULT_MNIST_URL,
  backend: null,
  augment: null,
  publish: false,
  publishUrl: null,
  includeFeedback: false,
  initModel: null,
  learningRate: null,
  lrSchedule: 'exponential',
  cleanEpochs: 0,
  teachers: Object.freeze([]),
  adminToken: null,
  sessionKey: null,
  couchdbUrl: null,
  couchdbPrefix: 'stratus_',
  couchdbSecretDir: null,
  couchdbCredentials: null,
  couchdbUsersDir: null,
  couchdbGatewayPublishes: false,
  kafkaBrokers: Object.freeze([]),
  kafkaPartitions: 6,
  kafkaReplication: 1,
  kafkaClientId: 'stratus',
  kafkaSsl: false,
  kafkaCaFile: null,
  kafkaSaslMechanism: null,
  kafkaSaslUsername: null,
  kafkaSecretDir: null,
  kafkaGroupInstanceId: null,
  kafkaTls: null,
  kafkaSasl: null,
  workers: 1,
  sync: 'gradients',
  syncEvery: 8,
  rank: 0,
  worldSize: 1,
  jobId: null,
  peerTimeoutMs: 60_000,
  keepCheckpoints: false,
});

/** Defaults, then environment, then flags; the result is frozen and checked as a whole. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliAction {
  // A subcommand (SUBCOMMANDS) takes the flags it names; everything else is flags for a role.
  if (argv[0] === 'probe') {
    const url = argv[1];
    if (argv.length !== 2 || url === undefined || !URL.canParse(url)) throw new ConfigError('usage: stratus probe http://host:port/path');
    return { kind: 'probe', url };
  }
  const command = SUBCOMMANDS.find(({ words }) => argv[0] === words[0]);
  if (command) {
    if (command.words.length === 2 && argv[1] !== command.words[1]) throw new ConfigError(command.usage);
    argv = argv.slice(command.words.length);
  }
  const subcommand = command ? command.words.join(' ') : null;
  const subcommandFlags = command?.flags ?? null;
  const evaluate = subcommand === 'evaluate';
  const exportFeedback = subcommand === 'feedback export';
  const keepCouch = subcommand === 'couchdb keep';
  const trial = subcommand === 'model trial';
  let json = false;
  let checkOnly = false;
  const values: Record<string, unknown> = { ...DEFAULTS };
  for (const option of OPTIONS) {
    const name = !env[option.env] && option.envFallback ? option.envFallback : option.env;
    const raw = env[name];
    if (raw !== undefined && raw !== '') values[option.key] = option.parse(raw, name);
  }
  values.adminToken = secretFrom(env, 'STRATUS_ADMIN_TOKEN');
  values.sessionKey = secretFrom(env, 'STRATUS_SESSION_KEY');
  if (keepCouch) values.store = 'couchdb';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version' || arg === '-v') return { kind: 'version' };
    if (evaluate && arg === '--json') {
      json = true;
      continue;
    }
    if (arg === '--check-config') {
      checkOnly = true;
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument '${arg}' (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const option = OPTIONS.find((o) => o.flag === name);
    if (!option) throw new ConfigError(`unknown flag --${name} (see --help)`);
    if (subcommandFlags && !subcommandFlags.includes(name)) throw new ConfigError(`${subcommand} does not take --${name} (see --help)`);
    let raw: string | undefined;
    if (eq !== -1) raw = arg.slice(eq + 1);
    else if (option.switch) raw = 'true';
    else raw = argv[++i];
    if (raw === undefined) throw new ConfigError(`--${name} needs a value`);
    values[option.key] = option.parse(raw, `--${name}`);
  }
  resolveCouch(values, env);
  resolveKafka(values, env);
  const config = Object.freeze(values) as unknown as Config;
  if (evaluate) return { kind: 'evaluate', config, json };
  if (trial) {
    if (!config.model) throw new ConfigError('model trial needs --model DIR');
    return { kind: 'model-trial', config };
  }
  if (keepCouch) {
    if (!config.couchdbUrl) throw new ConfigError('couchdb keep needs --couchdb-url (or COUCHDB_URL)');
    if (!config.couchdbUsersDir) throw new ConfigError('couchdb keep needs --couchdb-users-dir');
    // Like a role's: the user directories are read where the keeper runs (a pod), not where it is checked.
    if (checkOnly) return { kind: 'check', config, what: 'couchdb keep' };
    return { kind: 'couchdb-keep', config, users: roleUsers(config.couchdbUsersDir) };
  }
  if (exportFeedback) {
    if (!argv.some((arg) => arg === '--out' || arg.startsWith('--out='))) throw new ConfigError('feedback export needs --out FILE');
    if (!durable(config)) throw new ConfigError(`feedback export reads the store that holds the feedback (${durableStores()})`);
    checkRequired('store', config.store, storeAdapter(config.store).requires, config);
    return { kind: 'feedback-export', config, out: config.out };
  }
  checkCombination(config);
  return checkOnly ? { kind: 'check', config, what: `role ${config.role}` } : { kind: 'run', config };
}

/** Takes any userinfo out of --couchdb-url and gathers the store's credentials (secret dir, environment, URL). */
function resolveCouch(values: Record<string, unknown>, env: Record<string, string | undefined>): void {
  if (typeof values.couchdbUrl !== 'string') return;
  const couchdb = values.store === 'couchdb';
  try {
    const connection = resolveCouchConnection(values.couchdbUrl, '--couchdb-url', couchdb ? (values.couchdbSecretDir as string | null) : null, couchdb ? env : {});
    values.couchdbUrl = connection.url;
    values.couchdbCredentials = connection.credentials;
  } catch (error) {
    if (error instanceof CouchSettingsError) throw new ConfigError(error.message);
    throw error;
  }
}

function roleUsers(directory: string): ReadonlyMap<CouchRole, CouchCredentials> {
  try {
    return readRoleUsers(directory, COUCH_ROLES);
  } catch (error) {
    if (error instanceof CouchSettingsError) throw new ConfigError(error.message);
    throw error;
  }
}

/** --transport kafka: checks the TLS and SASL settings together and reads what they name (CA file, secret
 * directory); the password comes from the environment or that directory only, never from a flag. */
function resolveKafka(values: Record<string, unknown>, env: Record<string, string | undefined>): void {
  if (values.transport !== 'kafka') return;
  const password = env.STRATUS_KAFKA_SASL_PASSWORD;
  try {
    const security = resolveKafkaSecurity({
      ssl: values.kafkaSsl as boolean,
      caFile: values.kafkaCaFile as string | null,
      mechanism: values.kafkaSaslMechanism as SaslMechanism | null,
      username: values.kafkaSaslUsername as string | null,
      secretDir: values.kafkaSecretDir as string | null,
      password: password === undefined || password === '' ? null : password,
    });
    values.kafkaTls = security.tls;
    values.kafkaSasl = security.sasl;
  } catch (error) {
    if (error instanceof KafkaSettingsError) throw new ConfigError(error.message);
    throw error;
  }
}

function checkCombination(config: Config): void {
  // Port 0 asks for a free port on each; any other port cannot be taken twice.
  const port = listenPort(config);
  if (config.adminPort !== null && config.adminPort !== 0 && config.adminPort === port) {
    throw new ConfigError(`--admin-port ${config.adminPort} is --port too: give it a port of its own`);
  }
  if (config.metricsPort !== null) {
    if (config.adminPort === null) throw new ConfigError('--metrics-port takes /metrics off the admin port: give --admin-port too');
    const taken = config.metricsPort !== 0 && [port, config.adminPort].includes(config.metricsPort);
    if (taken) throw new ConfigError(`--metrics-port ${config.metricsPort} is --port or --admin-port too: give it a port of its own`);
  }
  checkRequired('store', config.store, storeAdapter(config.store).requires, config);
  checkRequired('transport', config.transport, transportAdapter(config.transport).requires, config);
  // In-process queues cannot connect separate processes, so a split role needs a transport that can.
  if (!joinsProcesses(config) && (config.role === 'gateway' || config.role === 'consumer')) {
    throw new ConfigError(`--role ${config.role} needs ${crossProcessTransports()} (${config.transport} only joins roles inside one process)`);
  }
  if ((config.publish || config.publishUrl) && config.role !== 'trainer') {
    throw new ConfigError(`--publish and --publish-url belong to --role trainer, not --role ${config.role}`);
  }
  // A model published into a store no other process can see would be lost on exit.
  if (config.publish && !durable(config)) throw new ConfigError(`--publish needs a store other processes read (${durableStores()})`);
  if (config.workers > 1 && config.role !== 'trainer') throw new ConfigError(`--workers belongs to --role trainer, not --role ${config.role}`);
  checkDistributed(config);
  if (config.initModel && config.role !== 'trainer') throw new ConfigError(`--init-model belongs to --role trainer, not --role ${config.role}`);
  if (config.cleanEpochs > 0 && config.role !== 'trainer') throw new ConfigError(`--clean-epochs belongs to --role trainer, not --role ${config.role}`);
  if (config.teachers.length > 0 && config.role !== 'trainer') throw new ConfigError(`--teacher belongs to --role trainer, not --role ${config.role}`);
  if (config.includeFeedback && config.role !== 'trainer') throw new ConfigError(`--include-feedback belongs to --role trainer, not --role ${config.role}`);
  // A fresh throwaway store holds no feedback: training "with" it would silently train without.
  if (config.includeFeedback && !durable(config)) throw new ConfigError(`--include-feedback needs the store that holds the feedback (${durableStores()})`);
}

/** Each setting an adapter requires must be given: by its flag, or its environment variable. */
function checkRequired(family: string, name: string, required: readonly (keyof TransportSettings | keyof StoreSettings)[], config: Config): void {
  for (const key of required) {
    const value = config[key];
    if (value !== null && value !== '' && !(Array.isArray(value) && value.length === 0)) continue;
    const option = OPTIONS.find((o) => o.key === key) as Option;
    throw new ConfigError(`--${family} ${name} needs --${option.flag}${option.envFallback ? ` (or ${option.envFallback})` : ''}`);
  }
}

const joinsProcesses = (config: Config) => transportAdapter(config.transport).capabilities.crossProcess;
const durable = (config: Config) => storeAdapter(config.store).capabilities.durable;
const crossProcessTransports = () => TRANSPORT_NAMES.filter((name) => transportAdapter(name).capabilities.crossProcess).map((name) => `--transport ${name}`).join(' or ');
const durableStores = () => STORE_NAMES.filter((name) => storeAdapter(name).capabilities.durable).map((name) => `--store ${name}`).join(' or ');

function checkDistributed(config: Config): void {
  if (config.rank >= config.worldSize) throw new ConfigError(`--rank ${config.rank} must be below --world-size ${config.worldSize}`);
  if (config.worldSize === 1) return;
  if (config.role !== 'trainer') throw new ConfigError(`--world-size belongs to --role trainer, not --role ${config.role}`);
  // Separate processes can only meet on a transport that joins them.
  if (!joinsProcesses(config)) {
    throw new ConfigError(`--world-size ${config.worldSize} needs ${crossProcessTransports()} (${config.transport} only joins ranks inside one process)`);
  }
  if (config.workers > 1) throw new ConfigError('--workers and --world-size do not combine yet: pick threads or processes');
  if (config.initModel) throw new ConfigError('--init-model does not combine with --world-size yet');
}

export function helpText(version: string): string {
  const width = Math.max(...OPTIONS.map((o) => o.flag.length)) + 4;
  const lines = OPTIONS.map((o) => `  --${o.flag.padEnd(width)}${o.help}  [${o.env}${o.envFallback ? `, ${o.envFallback}` : ''}]`);
  const evaluateFlags = `  --${'json'.padEnd(width)}evaluate: print the metrics as JSON instead of a table`;
  return [
    `stratus ${version}: handwritten digit recognition (gateway, consumer and trainer in one binary)`,
    '',
    'Usage: stratus [flags]        flags override environment variables, which override defaults',
    '       stratus evaluate --mnist-dir DIR [--model DIR] [--json] [--download] [--mnist-url URL]',
    '                              score a model (default: the embedded one) on the 10,000 MNIST test digits',
    '       stratus probe URL       exit 0 if URL answers 2xx within 2 s, else 1 (a container health check)',
    '       stratus feedback export --out FILE [--store pouchdb|couchdb] [--data-dir DIR | --couchdb-url URL]',
    '                              write the accepted feedback samples as JSON lines (docs/storage.md)',
    '       stratus couchdb keep --couchdb-url URL --couchdb-secret-dir ADMIN --couchdb-users-dir DIR',
    '                              as CouchDB admin: a user per role, database security, retention (docs/security.md)',
    '       stratus model trial --model DIR',
    '                              load a model as a publish\'s trial does; one JSON line, or exit 1 (docs/model-registry.md)',
    '',
    ...lines,
    evaluateFlags,
    `  --${'check-config'.padEnd(width)}validate flags and environment, print one line, exit 0 (or 2); start nothing`,
    `  --${'help'.padEnd(width)}print this help`,
    `  --${'version'.padEnd(width)}print the version`,
    '',
    'Environment only: STRATUS_ADMIN_TOKEN, the bearer token of the model admin endpoints (unset: they answer 403)',
    '',
  ].join('\n');
}
