// CouchStore's HTTP side: nano for requests (auth header, JSON, key encoding), with a timeout on every
// call, transient failures retried with jittered backoff until a time budget is spent (a server restart, a
// dropped connection), and a reachability flag kept by every answer and by a cheap GET / every few
// seconds, so readiness drops while the server is away and returns after.
import nano from 'nano';
import { RetriesExhausted, retry, type RetryPolicy } from '../../../flow/retry.ts';
import { StoreError } from '../store.ts';
import type { CouchCredentials } from './couch-credentials.ts';

// 15 s: a restarted CouchDB-API server took 2.8–6.1 s to answer again on the loaded CI machine, and a
// call that gives up costs a whole batch's redelivery; a consumer waiting 15 s is the lesser harm.
// Jittered: consumers that lost the server together should not come back in lockstep.
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ budgetMs: 15_000, firstDelayMs: 50, maxDelayMs: 1_000, jitter: true });

/** What nano rejects with: an HTTP error carries statusCode; a connection failure carries none. */
interface CouchFailure {
  readonly statusCode?: number;
  readonly error?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** Connection refused or reset, timeouts, 5xx, 429: worth another try. 4xx answers are final. */
function isTransient(error: unknown): boolean {
  const status = (error as CouchFailure | null)?.statusCode;
  if (status === undefined) return !isCertificateProblem(error);
  return status >= 500 || status === 429 || status === 408;
}

// An https:// server whose certificate this process does not trust (or that names another host) will not
// be trusted a moment later either: said at once, not after the retry budget. nano keeps only the message.
const CERTIFICATE_PROBLEM = /certificate|self[- ]signed|altname|ERR_TLS_CERT/i;

function isCertificateProblem(error: unknown): boolean {
  return error instanceof Error && CERTIFICATE_PROBLEM.test(error.message);
}

export interface CouchClientOptions {
  /** Without userinfo. */
  readonly url: string;
  readonly credentials?: CouchCredentials | null;
  readonly retry?: RetryPolicy;
  readonly pingIntervalMs?: number;
  /** One HTTP exchange at most this long; a hung server then counts as a transient failure. */
  readonly requestTimeoutMs?: number;
}

export interface CouchRequest {
  readonly method?: 'GET' | 'PUT' | 'POST' | 'DELETE';
  readonly db?: string;
  /** Already URL-encoded, relative to the database (or the server without db). */
  readonly path?: string;
  readonly qs?: Record<string, unknown>;
  readonly body?: unknown;
}

/** A final HTTP answer from CouchDB (4xx): the caller decides whether it is an outcome or a failure. */
export class CouchHttpError extends StoreError {
  constructor(
    readonly statusCode: number,
    readonly error: string,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }

  /** 404 for the database itself (a server restarted empty, a database deleted), not for a document. */
  get missingDatabase(): boolean {
    return this.statusCode === 404 && (this.reason === 'no_db_file' || /database does not exist/i.test(this.reason));
  }
}

type NanoRequest = nano.RequestOptions & { signal?: AbortSignal };

export class CouchClient {
  private readonly server: nano.ServerScope;
  private readonly retry: RetryPolicy;
  private readonly requestTimeoutMs: number;
  private timer: ReturnType<typeof setInterval> | null = null;
  private pinging = false;
  /** Aborted by close(): a call waiting between two attempts gives up at once. */
  private readonly closing = new AbortController();
  private reachable = false;

  constructor(private readonly options: CouchClientOptions) {
    // Bun's fetch (which nano calls) keeps connections alive and pools them per host by itself.
    // parseUrl false: a path in the URL (a proxy's /couchdb/) is part of the server, not a database name.
    // Accept-Encoding identity: nano asks for gzip by default, and a server that obliges (pouchdb-server
    // does, CouchDB does not) spends its CPU compressing _bulk_docs answers that only cross loopback or a LAN.
    this.server = nano({
      url: options.url,
      parseUrl: false,
      headers: {
        'Accept-Encoding': 'identity',
        ...(options.credentials ? { Authorization: options.credentials.authorizationHeader() } : {}),
      },
    } as nano.Configuration);
    this.retry = { jitter: true, ...(options.retry ?? DEFAULT_RETRY) };
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
  }

  private closed(): boolean {
    return this.closing.signal.aborted;
  }

  get healthy(): boolean {
    return !this.closed() && this.reachable;
  }

  startPinging(): void {
    const interval = this.options.pingIntervalMs ?? 2_000;
    this.timer = setInterval(() => void this.ping(), interval);
    this.timer.unref();
  }

  close(): void {
    this.closing.abort(new StoreError('store is closed'));
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One call, retried while the failure is transient. Throws StoreError (or CouchHttpError for 4xx). */
  async request<T>(request: CouchRequest): Promise<T> {
    this.assertOpen();
    try {
      return await retry(() => this.once<T>(request, this.requestTimeoutMs), this.retry, { retriable: isTransient, signal: this.closing.signal });
    } catch (error) {
      throw this.toStoreError(error, request);
    }
  }

  assertOpen(): void {
    if (this.closed()) throw new StoreError('store is closed');
  }

  private async once<T>(request: CouchRequest, timeoutMs: number): Promise<T> {
    const options: NanoRequest = {
      method: request.method ?? 'GET',
      signal: AbortSignal.timeout(timeoutMs),
      ...(request.db !== undefined ? { db: request.db } : {}),
      ...(request.path !== undefined ? { path: request.path } : {}),
      ...(request.qs !== undefined ? { qs: request.qs } : {}),
      ...(request.body !== undefined ? { body: request.body } : {}),
    };
    try {
      const answer = (await this.server.relax(options)) as T;
      this.reachable = true;
      return answer;
    } catch (error) {
      // A final answer means the server is there, unless it refuses us: then the store cannot work.
      const status = (error as CouchFailure).statusCode;
      this.reachable = status !== undefined && !isTransient(error) && status !== 401 && status !== 403;
      throw error;
    }
  }

  private async ping(): Promise<void> {
    if (this.pinging || this.closed()) return;
    this.pinging = true;
    try {
      await this.once({ method: 'GET', path: '' }, Math.max(500, (this.options.pingIntervalMs ?? 2_000) - 100));
    } catch {
      // A 401 also means the store cannot work: readiness should say so.
      this.reachable = false;
    } finally {
      this.pinging = false;
    }
  }

  private toStoreError(error: unknown, request: CouchRequest): StoreError {
    if (error instanceof StoreError) return error;
    const what = `${request.method ?? 'GET'} ${request.db ?? ''}/${request.path ?? ''}`;
    const redact = (text: string) => this.options.credentials?.redact(text) ?? text;
    if (error instanceof RetriesExhausted) {
      return new StoreError(redact(`couchdb ${what}: no answer after ${error.attempts} attempts: ${describe(error.last)}`));
    }
    const failure = error as CouchFailure;
    if (failure.statusCode !== undefined) {
      return new CouchHttpError(failure.statusCode, failure.error ?? '', failure.reason ?? '', redact(`couchdb ${what}: ${failure.statusCode} ${describe(error)}`));
    }
    return new StoreError(redact(`couchdb ${what}: ${describe(error)}`));
  }
}

function describe(error: unknown): string {
  const failure = error as CouchFailure | null;
  if (failure?.statusCode !== undefined) return `${failure.error ?? 'error'}: ${failure.reason ?? failure.message ?? ''}`;
  return failure?.message ?? String(error);
}
