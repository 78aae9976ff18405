/**
 * CPU time and resident memory of server processes, read from Linux /proc.
 *
 * CPU of a process tree = user + system time of every live process in it, plus the time its root
 * has collected from children it reaped (cutime + cstime), so a PostgreSQL backend that exits
 * between two samples is still counted. A process's utime/stime cover all of its threads (libuv
 * pool, V8 GC threads).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { processTree, readStatFields } from "../harness/proc-tree";

interface StatFields {
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
  /** Resident set size in pages. */
  rssPages: number;
}

let clockTicks: number | undefined;
let pageBytes: number | undefined;

function sysconf(name: "CLK_TCK" | "PAGESIZE"): number {
  const value = Number(execFileSync("getconf", [name], { encoding: "utf8" }).trim());
  if (!Number.isInteger(value) || value <= 0) throw new Error(`getconf ${name} answered ${value}: cannot read /proc CPU times`);
  return value;
}

function ticksPerSecond(): number {
  clockTicks ??= sysconf("CLK_TCK");
  return clockTicks;
}

function pageSize(): number {
  pageBytes ??= sysconf("PAGESIZE");
  return pageBytes;
}

function readStat(pid: number): StatFields | undefined {
  const fields = readStatFields(pid);
  if (fields === undefined) return undefined;
  return {
    utime: Number(fields[11]),
    stime: Number(fields[12]),
    cutime: Number(fields[13]),
    cstime: Number(fields[14]),
    rssPages: Number(fields[21]),
  };
}

/** A server whose CPU is charged to a system under test: one process, or a process and what it forks. */
export interface ServerProcess {
  name: string;
  pid: number;
  /** Count the processes it forks (PostgreSQL backends) too. */
  tree?: boolean;
}

/** CPU seconds (user + system) used so far by `server` (and its tree when asked). */
export function cpuSeconds(server: ServerProcess): number {
  const root = readStat(server.pid);
  if (root === undefined) throw new Error(`${server.name} (pid ${server.pid}) is not running: cannot read its CPU time`);
  let ticks = root.utime + root.stime;
  if (server.tree === true) {
    ticks += root.cutime + root.cstime;
    for (const member of processTree(server.pid)) {
      if (member.pid === server.pid) continue;
      const stat = readStat(member.pid);
      if (stat !== undefined) ticks += stat.utime + stat.stime;
    }
  }
  return ticks / ticksPerSecond();
}

/** Resident memory in bytes of one process. */
export function rssBytes(server: ServerProcess): number {
  const stat = readStat(server.pid);
  if (stat === undefined) throw new Error(`${server.name} (pid ${server.pid}) is not running: cannot read its memory`);
  return stat.rssPages * pageSize();
}

/** CPU seconds per server at one instant, to subtract from a later sample. */
export type CpuSample = Map<string, number>;

export function sampleCpu(servers: readonly ServerProcess[]): CpuSample {
  return new Map(servers.map((server) => [server.name, cpuSeconds(server)]));
}

/** CPU seconds each server used between two samples, and their sum. */
export function cpuBetween(before: CpuSample, after: CpuSample): { total: number; byServer: Record<string, number> } {
  const byServer: Record<string, number> = {};
  let total = 0;
  for (const [name, end] of after) {
    const start = before.get(name);
    if (start === undefined) throw new Error(`cpuBetween: no earlier sample of ${name}`);
    byServer[name] = end - start;
    total += end - start;
  }
  return { total, byServer };
}

/** Busy (non-idle, non-iowait) CPU seconds of the whole machine so far, from /proc/stat. */
export function machineBusySeconds(): number {
  const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user).
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / ticksPerSecond();
}
