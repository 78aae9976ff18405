/**
 * The watchdog of one harness owner (a Node process that starts servers through harness/process.ts),
 * run as its own process in its own session: `node --require tsx/cjs watchdog-main.ts <token> <owner pid>
 * <owner start time> <temporary root>`. See harness/watchdog.ts for why.
 *
 * stdin is a pipe from the owner: one JSON line per server started ({"watch": {pid, startTime}}) or
 * ended ({"forget": pid}). While the owner lives, every REFRESH_MS the watchdog notes the servers'
 * descendants and sessions (the part of the tree that only ancestry can tell). When the pipe reaches
 * EOF -- the owner is gone, however it ended: the kernel closes its end -- or the owner is seen dead,
 * the watchdog stops (SIGSTOP) every process of the owner it can find, again and again until no new
 * one turns up, SIGKILLs them all, waits until they are gone, removes the owner's temporary root and
 * exits. Nothing it does needs the owner's cooperation.
 */
import fs from "node:fs";
import { isAlive, type ProcessIdentity } from "./proc-tree";
import { ownedProcesses, scanProcesses, type Ownership, type ProcEntry } from "./owned-processes";

const REFRESH_MS = 500;
/** Stop-and-rescan rounds before the kill; each round only grows while something forked or was missed. */
const MAX_ROUNDS = 20;
const KILL_TIMEOUT_MS = 10_000;
/** A clean-up slower than this reports where its time went (stderr: the owner's, as far as anyone still reads it). */
const SLOW_CLEANUP_MS = 2000;

const [token, ownerPid, ownerStart, root] = process.argv.slice(2);
if (token === undefined || ownerPid === undefined || ownerStart === undefined || root === undefined) {
  process.stderr.write("harness watchdog: usage: watchdog-main.ts <token> <owner pid> <owner start time> <temporary root>\n");
  process.exit(2);
}
const owner: ProcessIdentity = { pid: Number(ownerPid), startTime: Number(ownerStart) };
const servers = new Map<number, ProcessIdentity>();
let seen: ProcessIdentity[] = [];
let sessions = new Set<number>();
let cleaningUp = false;

// Our stderr may be a pipe whose reader died with the owner: a failed write must not end the cleanup.
process.stderr.on("error", () => undefined);
const report = (message: string): void => {
  process.stderr.write(`harness watchdog (owner pid ${owner.pid}): ${message}\n`);
};

function ownership(): Ownership {
  return { token: token as string, root: root as string, known: [...servers.values(), ...seen], sessions };
}

function refresh(): void {
  const found = ownedProcesses(scanProcesses(), ownership(), false);
  seen = found.processes.map(({ pid, startTime }) => ({ pid, startTime }));
  sessions = found.sessions;
}

function signal(entries: readonly ProcEntry[], name: NodeJS.Signals): void {
  for (const entry of entries) {
    if (!isAlive(entry)) continue;
    try {
      process.kill(entry.pid, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") report(`could not send ${name} to pid ${entry.pid}: ${String(error)}`);
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function cleanUp(): Promise<void> {
  if (cleaningUp) return;
  cleaningUp = true;
  const began = Date.now();
  const victims = new Map<number, ProcEntry>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const found = ownedProcesses(scanProcesses(), { ...ownership(), known: [...ownership().known, ...victims.values()] }, true);
    sessions = found.sessions;
    const fresh = found.processes.filter((p) => !victims.has(p.pid));
    if (fresh.length === 0) break;
    // Stopped, a process can neither fork nor exit and hand its children to init while we look.
    signal(fresh, "SIGSTOP");
    for (const p of fresh) victims.set(p.pid, p);
  }
  const all = [...victims.values()];
  const stopped = Date.now();
  signal(all, "SIGKILL");
  const deadline = Date.now() + KILL_TIMEOUT_MS;
  while (all.some(isAlive) && Date.now() < deadline) await sleep(20);
  const stuck = all.filter(isAlive).map((p) => p.pid);
  if (stuck.length > 0) report(`still running ${KILL_TIMEOUT_MS} ms after SIGKILL: pids ${stuck.join(", ")}`);
  const killed = Date.now();
  try {
    fs.rmSync(root as string, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (error) {
    report(`could not remove ${root}: ${String(error)}`);
  }
  const done = Date.now();
  if (done - began > SLOW_CLEANUP_MS) {
    report(
      `clean-up took ${done - began} ms: finding and stopping ${all.length} processes ${stopped - began} ms, ` +
        `their end after SIGKILL ${killed - stopped} ms, removing ${root} ${done - killed} ms`,
    );
  }
  process.exit(stuck.length > 0 ? 1 : 0);
}

function onLine(line: string): void {
  if (line.trim() === "") return;
  try {
    const message = JSON.parse(line) as { watch?: ProcessIdentity; forget?: number };
    if (message.watch !== undefined) servers.set(message.watch.pid, message.watch);
    if (message.forget !== undefined) servers.delete(message.forget);
  } catch (error) {
    report(`ignored a line it could not read (${String(error)}): ${line.slice(0, 200)}`);
  }
}

let buffered = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk: string) => {
  const lines = (buffered + chunk).split("\n");
  buffered = lines.pop() ?? "";
  lines.forEach(onLine);
  refresh(); // a server just registered: note its first children at once
});
process.stdin.on("end", () => void cleanUp());
process.stdin.on("error", () => void cleanUp());
setInterval(() => {
  if (!isAlive(owner)) void cleanUp();
  else if (!cleaningUp) refresh();
}, REFRESH_MS);
