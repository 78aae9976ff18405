/**
 * Scheduling priority for the benchmark's own processes (opt-in, `--nice=<n>`), so that other work
 * on a shared machine interferes less with what is measured.
 *
 * Linux groups processes by session for CPU fairness (sched_autogroup): a nice value only counts
 * against processes of the same session, and every managed server leads a session of its own. So
 * both the process's nice value and its session's autogroup nice are set.
 */
import fs from "node:fs";
import os from "node:os";

const AUTOGROUP_SWITCH = "/proc/sys/kernel/sched_autogroup_enabled";

function autogroupsEnabled(): boolean {
  try {
    return fs.readFileSync(AUTOGROUP_SWITCH, "utf8").trim() === "1";
  } catch {
    return false;
  }
}

/** Gives `pid` (0: this process) and its session the nice value `nice`. */
export function prioritise(pid: number, nice: number): void {
  os.setPriority(pid, nice);
  if (autogroupsEnabled()) fs.writeFileSync(`/proc/${pid === 0 ? "self" : pid}/autogroup`, String(nice));
}
