// Every experiment of the report runs under a time budget and ends as an Outcome: a result, a failure
// with its error, or "not run" with the reason. A failed experiment becomes a line in the report, never a
// crash of the whole run; the processes it started are killed when its budget runs out.

import { loadavg } from 'node:os';

/** The machine's 1-minute load average while an experiment ran: a figure from a busy 2-core machine
 * is read differently from one measured on a quiet one, and the load changes between experiments. */
export interface LoadDuring {
  readonly mean: number;
  readonly max: number;
}

// `load` is optional so that results.json files written before it existed still render.
export type Outcome<T> =
  | { readonly status: 'ok'; readonly seconds: number; readonly value: T; readonly load?: LoadDuring }
  | { readonly status: 'failed'; readonly seconds: number; readonly error: string; readonly load?: LoadDuring }
  | { readonly status: 'not run'; readonly reason: string };

/** What an experiment gets to start processes with, so a timeout can stop them all. */
export class Children {
  /** Every process any experiment started and still running: stopped on Ctrl-C too. */
  static readonly everywhere = new Set<Bun.Subprocess>();
  private readonly running = new Set<Bun.Subprocess>();
  /** Processes spawned `detached`: leaders of a process group of their own, signalled as a group so that
   * whatever they started (a bench script's servers, brokers, load generators) stops with them. */
  private static readonly leaders = new WeakSet<Bun.Subprocess>();

  /** Sends `signal` to the process, or to its whole group when it leads one. */
  static signal(proc: Bun.Subprocess, signal: NodeJS.Signals): void {
    if (!Children.leaders.has(proc)) return void proc.kill(signal);
    try {
      process.kill(-proc.pid, signal);
    } catch {
      // the group is gone already
    }
  }

  spawn<Opts extends Bun.SpawnOptions.OptionsObject<Bun.SpawnOptions.Writable, Bun.SpawnOptions.Readable, Bun.SpawnOptions.Readable>>(
    command: string[],
    options: Opts,
  ): Bun.Subprocess<Opts extends { stdin: infer I } ? I : 'ignore', Opts extends { stdout: infer O } ? O : 'pipe', Opts extends { stderr: infer E } ? E : 'inherit'> {
    const proc = Bun.spawn(command, options);
    if (options.detached) Children.leaders.add(proc);
    this.running.add(proc);
    Children.everywhere.add(proc);
    void proc.exited.then(() => {
      this.running.delete(proc);
      Children.everywhere.delete(proc);
    });
    return proc as never;
  }

  /** SIGTERM to each process this experiment started and still running; SIGKILL after `graceMs`. */
  async stopAll(graceMs = 5_000): Promise<void> {
    const procs = [...this.running];
    for (const proc of procs) Children.signal(proc, 'SIGTERM');
    const timer = setTimeout(() => procs.forEach((proc) => Children.signal(proc, 'SIGKILL')), graceMs);
    await Promise.all(procs.map((proc) => proc.exited));
    clearTimeout(timer);
  }
}

export class BudgetExceeded extends Error {}

const LOAD_SAMPLE_MS = 5_000;

/** Samples the 1-minute load average now and every few seconds until `stop()` returns the summary. */
export function sampleLoad(): { stop(): LoadDuring } {
  const samples = [loadavg()[0]!];
  const timer = setInterval(() => samples.push(loadavg()[0]!), LOAD_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      samples.push(loadavg()[0]!);
      const round = (x: number) => Math.round(x * 100) / 100;
      return { mean: round(samples.reduce((a, b) => a + b, 0) / samples.length), max: round(Math.max(...samples)) };
    },
  };
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 500);

/**
 * Runs `experiment` for at most `budgetMs`. On error or timeout, every process it spawned through
 * `children` is stopped and the outcome is `failed` with the error's first line.
 */
export async function withBudget<T>(name: string, budgetMs: number, experiment: (children: Children) => Promise<T>): Promise<Outcome<T>> {
  const children = new Children();
  const started = performance.now();
  const load = sampleLoad();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BudgetExceeded(`${name}: over its budget of ${Math.round(budgetMs / 1000)} s`)), budgetMs);
  });
  try {
    const value = await Promise.race([experiment(children), timeout]);
    return { status: 'ok', seconds: seconds(), value, load: load.stop() };
  } catch (error) {
    console.error(`✗ ${name}: ${message(error)}`);
    return { status: 'failed', seconds: seconds(), error: message(error), load: load.stop() };
  } finally {
    clearTimeout(timer);
    await children.stopAll();
  }
}
