import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

const tasksetBinary = "/usr/bin/taskset";

/**
 * On a small machine the load generator, the origin and workerd all compete
 * for the same cores, and the scheduler's noise swamps the difference between
 * two Workers. Giving workerd a core of its own makes the Worker the measured
 * bottleneck; everything else shares the rest. Without taskset, or with a
 * single core, processes run unpinned.
 */
export const pinning = existsSync(tasksetBinary) && availableParallelism() >= 2;

/** The core workerd gets, and the list of cores everything else shares. */
const workerCore = "1";
const otherCores = (): string =>
  availableParallelism() > 2 ? `0,2-${availableParallelism() - 1}` : "0";

/** Spawns a process on the cores kept for the Worker, or plainly without pinning. */
export function spawnOnWorkerCore(
  binary: string,
  args: string[],
  options: SpawnOptions,
): ChildProcess {
  return pinning
    ? spawn(tasksetBinary, ["-c", workerCore, binary, ...args], options)
    : spawn(binary, args, options);
}

/** Spawns a process on the cores shared by everything but the Worker. */
export function spawnOffWorkerCore(
  binary: string,
  args: string[],
  options: SpawnOptions,
): ChildProcess {
  return pinning
    ? spawn(tasksetBinary, ["-c", otherCores(), binary, ...args], options)
    : spawn(binary, args, options);
}

/** Moves this process (the origin and the keys endpoint) off the Worker's core. */
export function pinSelfOffWorkerCore(): void {
  if (pinning) execFileSync(tasksetBinary, ["-a", "-p", "-c", otherCores(), String(process.pid)]);
}

/** One line for the report saying how processes were placed. */
export function pinningNote(): string {
  return pinning
    ? `workerd pinned to core ${workerCore}; load generator and origin on cores ${otherCores()}`
    : "processes not pinned (taskset missing or one core)";
}

/**
 * CPU time a process has used so far, in nanoseconds, summed over its
 * threads (the first field of each thread's `schedstat` under
 * `/proc/<pid>/task` is its time on a CPU). A Worker's CPU per request over a round is its cost with the
 * scheduler's share taken out: throughput shows how a shared core was split,
 * this shows what each request took of it. `undefined` where /proc has no
 * schedstat (not Linux, or a kernel without it).
 */
export function cpuTimeNs(pid: number): number | undefined {
  const tasks = `/proc/${pid}/task`;
  try {
    let total = 0;
    for (const task of readdirSync(tasks)) {
      const first = readFileSync(`${tasks}/${task}/schedstat`, "utf8").split(" ")[0];
      total += Number(first);
    }
    return Number.isFinite(total) ? total : undefined;
  } catch {
    return undefined;
  }
}
