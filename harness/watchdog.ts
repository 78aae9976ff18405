/**
 * Every server the harness starts must end with the Node process that started it (its owner), however
 * that ends -- including SIGKILL of its whole process group, as a CI runner's timeout or a killed jest
 * worker does, when no exit handler runs. The kernel's parent-death signal (setpriv --pdeathsig) reaches
 * only a server's own process; pg_autoctl and PostgreSQL fork into sessions of their own and would be
 * re-parented to init and live on, and prctl(PR_SET_PDEATHSIG / PR_SET_CHILD_SUBREAPER) is not reachable
 * from Node.
 *
 * So each owner starts one watchdog (harness/watchdog-main.ts): a small Node process in its own session
 * and process group (a group kill of the owner does not reach it), whose stdin is a pipe from the owner.
 * The owner's end of that pipe closes when the owner dies; on that EOF the watchdog finds every process
 * of the owner (harness/owned-processes.ts: the servers it was told about, their descendants and
 * sessions, any process carrying the owner's token in GOMEET_HARNESS_OWNERS, any process working in the
 * owner's temporary root), SIGKILLs them and removes the temporary root. Every tempDir() of the owner
 * lies in that root, whose name the watchdog gets before it is created: no directory escapes it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { identify, type ProcessIdentity } from "./proc-tree";
import { OWNER_MARKER_ENV, WATCHDOG_ENV } from "./owned-processes";

const WATCHDOG_MAIN = path.join(__dirname, "watchdog-main.ts");

const self = identify(process.pid) as ProcessIdentity;
/** This owner's token: pid, start time and randomness, so that no other owner's processes ever match it. */
export const ownerToken = `${self.pid}.${self.startTime}.${crypto.randomBytes(4).toString("hex")}`;
/**
 * Where every temporary directory of this owner is made (created on first use; see process.ts tempDir). The name is short
 * on purpose: a nested harness (npm run cluster under a test) makes its root inside its parent's, and HAProxy refuses an
 * admin socket path over 97 characters (Unix socket paths end at 107 in any case).
 */
export const temporaryRoot = path.join(os.tmpdir(), `gm-${self.pid}-${crypto.randomBytes(3).toString("hex")}`);

let watchdog: ChildProcess | undefined;
const watched = new Map<number, ProcessIdentity>();

/** The environment value that marks a server as this owner's (and as its owners' owners', if nested). */
export function ownerMarker(): string {
  const inherited = (process.env[OWNER_MARKER_ENV] ?? "").split(",").filter((t) => t !== "");
  return [...inherited, ownerToken].join(",");
}

function send(watchdogProcess: ChildProcess, message: object): void {
  watchdogProcess.stdin?.write(`${JSON.stringify(message)}\n`);
}

/** Starts this owner's watchdog unless it runs; a watchdog that died is replaced and told the servers that run. */
export function ensureWatchdog(): void {
  if (watchdog !== undefined) return;
  const env: NodeJS.ProcessEnv = { ...process.env, [WATCHDOG_ENV]: "1" };
  delete env[OWNER_MARKER_ENV];
  const child = spawn(
    process.execPath,
    ["--require", require.resolve("tsx/cjs"), WATCHDOG_MAIN, ownerToken, String(self.pid), String(self.startTime), temporaryRoot],
    { detached: true, env, stdio: ["pipe", "ignore", "inherit"] },
  );
  if (child.pid === undefined) throw new Error(`harness: could not start its watchdog (${process.execPath} ${WATCHDOG_MAIN})`);
  watchdog = child;
  child.once("exit", (code, signal) => {
    if (watchdog === child) watchdog = undefined;
    process.stderr.write(
      `harness: the watchdog (pid ${String(child.pid)}) ended (${signal ?? `code ${String(code)}`}); a new one starts with the next server\n`,
    );
  });
  // A write to a watchdog that just died fails; the exit handler above reports it.
  child.stdin?.on("error", () => undefined);
  // Neither the watchdog nor its pipe keeps this process alive.
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  for (const id of watched.values()) send(child, { watch: id });
}

/** Tells the watchdog about a server (its process, which leads its own session). */
export function watchServer(id: ProcessIdentity): void {
  ensureWatchdog();
  watched.set(id.pid, id);
  if (watchdog !== undefined) send(watchdog, { watch: id });
}

/** The server has ended and was reaped; its pid may be reused. */
export function forgetServer(pid: number): void {
  watched.delete(pid);
  if (watchdog !== undefined) send(watchdog, { forget: pid });
}
