// CPU time per thread of a process, from /proc (Linux): says which thread spends a benchmark's cycles
// (HTTP on the main thread, the model's worker, the store's worker, the garbage collector) in CPU time,
// which stays meaningful when the machine is busy and wall-clock profiles are not.
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // USER_HZ: 100 on every Linux build that matters here

export type ThreadCpu = Map<string, number>;

/** CPU seconds per thread, keyed "name#tid" (names repeat: several GC helpers share one). */
export function threadCpu(pid: number): ThreadCpu {
  const result: ThreadCpu = new Map();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return result;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // The name sits in parentheses and may contain spaces; the fields after it are space-separated.
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const fields = stat.slice(close + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
      result.set(`${name}#${tid}`, ticks / TICKS_PER_SECOND);
    } catch {
      // the thread ended between listing and reading
    }
  }
  return result;
}

/** CPU seconds spent between two readings, summed by thread name, largest first. */
export function cpuBetween(before: ThreadCpu, after: ThreadCpu): [string, number][] {
  const byName = new Map<string, number>();
  for (const [key, seconds] of after) {
    const spent = seconds - (before.get(key) ?? 0);
    if (spent <= 0) continue;
    const name = key.slice(0, key.lastIndexOf('#'));
    byName.set(name, (byName.get(name) ?? 0) + spent);
  }
  return [...byName].sort((a, b) => b[1] - a[1]);
}

/** Follows a child's total CPU seconds while it runs; call the result once it has exited. Sampled, because
 * a process's threads vanish from /proc when it ends. */
export function followProcessCpu(pid: number): () => number {
  let seconds = 0;
  const sampler = setInterval(() => {
    const total = [...threadCpu(pid).values()].reduce((a, b) => a + b, 0);
    if (total > 0) seconds = total;
  }, 200);
  return () => {
    clearInterval(sampler);
    return seconds;
  };
}
