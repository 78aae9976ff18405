/**
 * Process trees read from Linux /proc, so that stopping a server also stops what it forked
 * (nginx workers, PostgreSQL backends) and "gone" can be checked for every one of those processes.
 *
 * A process is identified by pid AND start time, so a pid reused by an unrelated process is never
 * mistaken for one of ours, and never signalled.
 */
import fs from "node:fs";

/** Set in the environment of a harness watchdog (harness/watchdog.ts). */
export const WATCHDOG_ENV = "GOMEET_HARNESS_WATCHDOG";

export interface ProcessIdentity {
  pid: number;
  /** Field 22 of /proc/<pid>/stat: start time in clock ticks since boot. */
  startTime: number;
}

interface ProcStat extends ProcessIdentity {
  ppid: number;
  pgrp: number;
  state: string;
}

/**
 * The fields of /proc/<pid>/stat after "pid (comm) ", or undefined when the process is gone.
 * `fields[0]` is field 3 (state), so field N (as proc(5) numbers them) is `fields[N - 3]`.
 */
export function readStatFields(pid: number): string[] | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: the fields start after the last ")".
  return text.slice(text.lastIndexOf(")") + 2).split(" ");
}

function readStat(pid: number): ProcStat | undefined {
  const fields = readStatFields(pid);
  if (fields === undefined) return undefined;
  return {
    pid,
    state: fields[0] ?? "?",
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTime: Number(fields[19]),
  };
}

function allStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat !== undefined) stats.push(stat);
  }
  return stats;
}

/** A process's environment (empty when it is gone or a kernel thread). */
export function readEnviron(pid: number): Map<string, string> {
  const vars = new Map<string, string>();
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/environ`, "utf8");
  } catch {
    return vars;
  }
  for (const pair of text.split("\0")) {
    const eq = pair.indexOf("=");
    if (eq > 0) vars.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return vars;
}

/**
 * True for a harness watchdog: a nested harness owner's watchdog must outlive its owner (it ends the
 * owner's servers and removes its temporary directories), so it is never part of a tree we kill.
 */
export function isWatchdog(pid: number): boolean {
  return readEnviron(pid).has(WATCHDOG_ENV);
}

/** The identity of a running process, or undefined if there is none with that pid. */
export function identify(pid: number): ProcessIdentity | undefined {
  const stat = readStat(pid);
  return stat === undefined ? undefined : { pid: stat.pid, startTime: stat.startTime };
}

/** True while the very process `id` names exists and is not a zombie. */
export function isAlive(id: ProcessIdentity): boolean {
  const stat = readStat(id.pid);
  return stat !== undefined && stat.startTime === id.startTime && stat.state !== "Z" && stat.state !== "X";
}

/**
 * `rootPid`, all its descendants, and every member of the process group `rootPid` leads
 * (members outlive the leader's exit; children re-parented to init are found that way).
 * Harness watchdogs (of a harness owner among them) are left out: see isWatchdog.
 */
export function processTree(rootPid: number): ProcessIdentity[] {
  const stats = allStats();
  const children = new Map<number, ProcStat[]>();
  for (const stat of stats) {
    const siblings = children.get(stat.ppid) ?? [];
    siblings.push(stat);
    children.set(stat.ppid, siblings);
  }
  const found = new Map<number, ProcStat>();
  const queue = stats.filter((s) => s.pid === rootPid || s.pgrp === rootPid);
  while (queue.length > 0) {
    const next = queue.pop() as ProcStat;
    if (found.has(next.pid) || next.state === "Z" || isWatchdog(next.pid)) continue;
    found.set(next.pid, next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return [...found.values()].map(({ pid, startTime }) => ({ pid, startTime }));
}

/** Sends `signal` to each process that is still the one identified; returns how many were signalled. */
export function signalAll(ids: readonly ProcessIdentity[], signal: NodeJS.Signals): number {
  let signalled = 0;
  for (const id of ids) {
    if (!isAlive(id)) continue;
    try {
      process.kill(id.pid, signal);
      signalled++;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  }
  return signalled;
}

/**
 * SIGKILLs `rootPid` and its whole tree. The root is SIGSTOPped first so that it cannot fork
 * while the tree is being read. Synchronous, so it can run in a process "exit" handler.
 * Returns the identities that were signalled, to wait on.
 */
export function killTreeSync(rootPid: number): ProcessIdentity[] {
  const root = identify(rootPid);
  if (root !== undefined) signalAll([root], "SIGSTOP");
  const tree = processTree(rootPid);
  signalAll(tree, "SIGKILL");
  return tree;
}
