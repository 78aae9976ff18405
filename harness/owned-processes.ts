/**
 * Which processes on this machine belong to one harness owner (a Node process that started servers
 * through harness/process.ts), found from /proc alone, so that they can be ended after the owner itself
 * was SIGKILLed. pg_autoctl and PostgreSQL start sessions of their own and are re-parented to init when
 * their parent dies, so ancestry alone does not reach them once the owner is gone. A process is the
 * owner's if any of these holds:
 *
 * - it is one of the `known` processes (the servers the owner started, and what was seen under them);
 * - its environment carries the owner's token in OWNER_MARKER_ENV (every server gets it, and what a
 *   server forks inherits it);
 * - its working directory lies in the owner's temporary root (a PostgreSQL server's is its data dir;
 *   PostgreSQL overwrites its environment with its process title, so the marker is not readable there);
 * - its parent is the owner's, or it is in a session led by one of the owner's processes (a session id
 *   stays in use, and so is never reused as a pid, while the session has members).
 *
 * Processes whose environment carries WATCHDOG_ENV are left alone: a nested owner's watchdog ends its
 * own servers once its owner is gone, and removes its own temporary root.
 */
import fs from "node:fs";
import { isWatchdog, readEnviron, readStatFields, WATCHDOG_ENV, type ProcessIdentity } from "./proc-tree";

/** Every server started through the harness has its owners' tokens here, comma-separated (outermost first). */
export const OWNER_MARKER_ENV = "GOMEET_HARNESS_OWNERS";
export { WATCHDOG_ENV };

export interface ProcEntry extends ProcessIdentity {
  ppid: number;
  /** Session id (field 6 of /proc/<pid>/stat). */
  sid: number;
  state: string;
}

export interface Ownership {
  token: string;
  /** The owner's temporary root: every directory tempDir() made for it lies below. */
  root: string;
  /** Processes already known to be the owner's. */
  known: readonly ProcessIdentity[];
  /** Session ids known to be the owner's (led by one of its processes). */
  sessions: ReadonlySet<number>;
}

export interface Found {
  processes: ProcEntry[];
  /** The sessions led by processes found, or known before and still with members. */
  sessions: Set<number>;
}

/** Every process now running (zombies included: their parent decides when they go). */
export function scanProcesses(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const fields = readStatFields(Number(name));
    if (fields === undefined) continue;
    entries.push({
      pid: Number(name),
      state: fields[0] ?? "?",
      ppid: Number(fields[1]),
      sid: Number(fields[3]),
      startTime: Number(fields[19]),
    });
  }
  return entries;
}

function cwdOf(pid: number): string | undefined {
  try {
    return fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}

/** The owner tokens in a process's environment (OWNER_MARKER_ENV). */
export function ownerTokens(environ: ReadonlyMap<string, string>): string[] {
  return (environ.get(OWNER_MARKER_ENV) ?? "").split(",").filter((token) => token !== "");
}

/**
 * The owner's processes among `entries`. With `deep`, every process's environment and working directory
 * are read too (at the end, when the owner is gone); without, only known processes, their descendants
 * and their sessions count (the cheap refresh while the owner lives).
 */
export function ownedProcesses(entries: readonly ProcEntry[], ownership: Ownership, deep: boolean): Found {
  const self = process.pid;
  const known = new Set(ownership.known.map((id) => `${id.pid}/${id.startTime}`));
  const livingSessions = new Set(entries.map((e) => e.sid));
  const sessions = new Set([...ownership.sessions].filter((sid) => livingSessions.has(sid)));
  const found = new Map<number, ProcEntry>();
  const excluded = new Set<number>([self]);
  const marked = (entry: ProcEntry): boolean => {
    if (known.has(`${entry.pid}/${entry.startTime}`)) return true;
    if (!deep) return false;
    if (ownerTokens(readEnviron(entry.pid)).includes(ownership.token)) return true;
    const cwd = cwdOf(entry.pid);
    return cwd !== undefined && (cwd === ownership.root || cwd.startsWith(`${ownership.root}/`));
  };
  const admit = (entry: ProcEntry): void => {
    if (isWatchdog(entry.pid)) {
      excluded.add(entry.pid);
      return;
    }
    found.set(entry.pid, entry);
    if (entry.sid === entry.pid) sessions.add(entry.sid);
  };
  for (const entry of entries) if (entry.pid !== self && marked(entry)) admit(entry);
  for (let grew = true; grew;) {
    grew = false;
    for (const entry of entries) {
      if (found.has(entry.pid) || excluded.has(entry.pid)) continue;
      if (found.has(entry.ppid) || sessions.has(entry.sid)) {
        admit(entry);
        grew = true;
      }
    }
  }
  return { processes: [...found.values()], sessions };
}
