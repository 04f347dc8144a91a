// Stratus roles as separate processes on a real Kafka and a CouchDB-API server, for the end-to-end suites:
// each process logs to its own file (a pipe nobody reads would fill and stall it), printed when a test fails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { childEnv, freePort, MAIN, REPO } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

export interface ClusterTarget {
  readonly kafkaBrokers: readonly string[];
  readonly couchdbUrl: string;
  /** Database name prefix: a fresh one keeps one test's results apart from another's. */
  readonly prefix: string;
  readonly replication: number;
}

export interface RoleProcess {
  readonly name: string;
  readonly url: string;
  readonly proc: Bun.Subprocess;
  ready(): Promise<{ status: number; reasons: string[] }>;
  waitReady(timeoutMs?: number): Promise<void>;
  metrics(): Promise<string>;
  /** SIGTERM and wait; SIGKILL if it does not end within 20 s. */
  stop(): Promise<void>;
}

export class ProcessGroup {
  private readonly logDir = mkdtempSync(join(tmpdir(), 'stratus-faults-'));
  private readonly running: RoleProcess[] = [];
  private started = 0;
  /** One for the group, as a deployment gives all its gateways (the stratus-session Secret): a session
   * one gateway issued is known to the others. */
  private readonly sessionKey = crypto.randomUUID() + crypto.randomUUID();

  /** Starts `role` against the target without waiting for readiness (a test may want it not ready). */
  start(role: 'gateway' | 'consumer', target: ClusterTarget, extra: string[] = []): RoleProcess {
    const name = `${role}-${++this.started}`;
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const log = join(this.logDir, `${name}.log`);
    // Every setting as a flag, bar the session key, which is read from the environment only (childEnv drops
    // KAFKA_BROKERS and the like).
    const args = [
      '--role', role, '--port', String(port), '--log-level', 'warn',
      '--transport', 'kafka', '--kafka-brokers', target.kafkaBrokers.join(','), '--kafka-replication', String(target.replication),
      '--store', 'couchdb', '--couchdb-url', target.couchdbUrl, '--couchdb-prefix', target.prefix,
      ...extra,
    ];
    const proc = Bun.spawn([process.execPath, MAIN, ...args], { cwd: REPO, env: childEnv({ STRATUS_SESSION_KEY: this.sessionKey }), stdin: 'ignore', stdout: Bun.file(log), stderr: Bun.file(log) });
    const ready = async () => {
      const response = await fetch(`${url}/v2/health/ready`);
      const body = (await response.json()) as { reasons?: string[] };
      return { status: response.status, reasons: body.reasons ?? [] };
    };
    const member: RoleProcess = {
      name,
      url,
      proc,
      ready,
      async waitReady(timeoutMs = 120_000) {
        await waitFor(async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} ended (${proc.exitCode ?? proc.signalCode}) before it was ready`);
          return ready().then((r) => r.status === 200, () => false);
        }, timeoutMs, 100);
      },
      metrics: () => fetch(`${url}/metrics`).then((r) => r.text()),
      async stop() {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
        await proc.exited;
        clearTimeout(timer);
      },
    };
    this.running.push(member);
    return member;
  }

  /** The end of every log, for a failing test's output. */
  logTails(lines = 25): string {
    return this.running
      .map((member) => {
        let text = '';
        try {
          text = readFileSync(join(this.logDir, `${member.name}.log`), 'utf8');
        } catch {
          text = '(no log)';
        }
        return `--- ${member.name} (${member.url})\n${text.trimEnd().split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.running.map((member) => member.stop()));
  }

  /** Stops everything; the logs go too unless STRATUS_KEEP_FAULT_LOGS=1 (for a closer look). */
  async dispose(): Promise<void> {
    await this.stopAll();
    if (process.env.STRATUS_KEEP_FAULT_LOGS === '1') process.stderr.write(`fault test logs kept in ${this.logDir}\n`);
    else rmSync(this.logDir, { recursive: true, force: true });
  }
}

/** Runs `body`; when it throws, prints the processes' recent log lines first. */
export async function withLogs<T>(group: ProcessGroup, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    process.stderr.write(`\n${group.logTails()}\n`);
    throw error;
  }
}
