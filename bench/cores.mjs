// Where the /token rounds run on the machine's cores. A deployment's clients are not on the server's
// machine; here the load generator is, and when the scheduler puts it on the server's core the two
// take turns and the latency tail measures that (the bare-Koa reference's p99 went from about 20 ms
// to 70-490 ms that way). So the single-process runs keep the server (every thread) on all cores but
// the last, and wrk on the last one. WORKERS runs are not pinned: their workers use every core.
// Needs taskset (util-linux) and two cores; BENCH_PIN=0 turns it off.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export function corePlan() {
  if (process.env.BENCH_PIN === '0') return undefined;
  const cores = availableParallelism();
  if (cores < 2) return undefined;
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const last = cores - 1;
  return { server: last === 1 ? '0' : `0-${last - 1}`, loader: String(last) };
}

/** Binds every thread of a running process (and the threads it starts later) to `cpus`. */
export function pin(pid, cpus) {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}
