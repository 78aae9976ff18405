/**
 * Managed child processes for tests, the local cluster and the drills.
 *
 * Every process started here is registered until it is stopped. Survivors are SIGKILLed (with
 * everything they forked) when this Node process exits or is terminated. If it is SIGKILLed itself
 * (no exit handler runs), its watchdog (harness/watchdog.ts) ends them, with whatever they forked
 * into sessions of their own, and removes the temporary directories; each child also gets the
 * kernel's parent-death signal.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import fsp from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { OWNER_MARKER_ENV } from "./owned-processes";
import { identify, isAlive, killTreeSync, processTree, signalAll, type ProcessIdentity } from "./proc-tree";
import { ensureWatchdog, forgetServer, ownerMarker, temporaryRoot, watchServer } from "./watchdog";

export interface ManagedProcess {
  name: string;
  pid: number;
  /** Resolves with the exit code (null if the process was ended by a signal). */
  exited: Promise<number | null>;
  /** Sends the stop signal (SIGTERM unless spawned with another), then SIGKILL after timeoutMs (default 5000); resolves when gone. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL; resolves when gone. */
  kill(): Promise<void>;
  /** The last ~200 lines of stdout+stderr, for failure messages. */
  logs(): string;
}

export type SystemUser = "postgres";

export interface SpawnOptions {
  /** Merged over process.env; a key set to undefined removes that variable. */
  env?: NodeJS.ProcessEnv;
  /** Working directory; defaults to this process's, or to the system temp dir when running as another user. */
  cwd?: string;
  /**
   * Run as this system user (via setpriv) when the harness runs as root (initdb and PgBouncer refuse root); as an
   * ordinary user (a CI runner, a developer), the process runs as that user.
   */
  asUser?: SystemUser;
  /** Signal stop() sends first (default SIGTERM); e.g. SIGINT is PostgreSQL's fast shutdown. */
  stopSignal?: NodeJS.Signals;
}

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is being waited for, for the timeout error. */
  what: string;
  /** Stops waiting at once, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

const LOG_LINES = 200;
const DEFAULT_STOP_TIMEOUT_MS = 5000;
/** How long processes get to disappear after SIGKILL before we report them stuck. */
const KILL_TIMEOUT_MS = 10_000;
const POLL_MS = 20;
/** Set GOMEET_HARNESS_LOG=1 to echo every managed process's output to stderr, prefixed with its name. */
const ECHO_OUTPUT = process.env.GOMEET_HARNESS_LOG === "1";

const running = new Set<ManagedChild>();
const temporaryDirs = new Set<string>();
const inProcessCleanups = new Set<() => Promise<void>>();

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The last lines written to a process's stdout and stderr (each stream assembled into whole lines separately). */
class OutputTail {
  private readonly lines: string[] = [];
  private readonly partial = new Map<string, string>();

  constructor(
    private readonly name: string,
    private readonly max: number,
  ) {}

  append(stream: string, chunk: Buffer): void {
    const text = (this.partial.get(stream) ?? "") + chunk.toString("utf8");
    const parts = text.split("\n");
    this.partial.set(stream, parts.pop() ?? "");
    for (const line of parts) this.push(line);
  }

  private push(line: string): void {
    if (ECHO_OUTPUT) process.stderr.write(`[${this.name}] ${line}\n`);
    this.lines.push(line);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  text(): string {
    const unfinished = [...this.partial.values()].filter((p) => p !== "");
    return [...this.lines, ...unfinished].join("\n");
  }
}

class ManagedChild implements ManagedProcess {
  readonly exited: Promise<number | null>;
  private hasExited = false;
  private readonly output: OutputTail;

  constructor(
    readonly name: string,
    readonly pid: number,
    private readonly identity: ProcessIdentity | undefined,
    private readonly stopSignal: NodeJS.Signals,
    child: ReturnType<typeof spawn>,
  ) {
    this.output = new OutputTail(name, LOG_LINES);
    child.stdout?.on("data", (chunk: Buffer) => this.output.append("stdout", chunk));
    child.stderr?.on("data", (chunk: Buffer) => this.output.append("stderr", chunk));
    child.once("error", (error) => this.output.append("harness", Buffer.from(`harness: ${error.message}\n`)));
    this.exited = new Promise((resolve) => {
      child.once("exit", (code) => {
        this.hasExited = true;
        running.delete(this);
        // Whatever it leaves in its process group (e.g. nginx workers of a crashed master) goes with it.
        signalAll(processTree(pid), "SIGKILL");
        forgetServer(pid);
        resolve(code);
      });
    });
  }

  logs(): string {
    return this.output.text();
  }

  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<void> {
    if (this.stopSignal === "SIGKILL") return this.kill();
    const tree = this.tree();
    if (!this.hasExited) signalAll(this.leader(), this.stopSignal);
    const graceful = await this.waitGone(tree, timeoutMs);
    if (!graceful) await this.kill();
    running.delete(this);
  }

  async kill(): Promise<void> {
    const tree = this.hasExited ? processTree(this.pid) : killTreeSync(this.pid);
    signalAll(tree, "SIGKILL");
    if (!(await this.waitGone(tree, KILL_TIMEOUT_MS))) {
      const stuck = tree.filter(isAlive).map((p) => p.pid);
      throw new Error(`${this.name} (pid ${this.pid}): still running ${KILL_TIMEOUT_MS} ms after SIGKILL: pids ${stuck.join(", ")}`);
    }
    running.delete(this);
  }

  /** Synchronous SIGKILL of the whole tree, for exit handlers. */
  killSync(): void {
    if (!this.hasExited) killTreeSync(this.pid);
    else signalAll(processTree(this.pid), "SIGKILL");
  }

  private leader(): ProcessIdentity[] {
    return this.identity === undefined ? [] : [this.identity];
  }

  private tree(): ProcessIdentity[] {
    return processTree(this.pid);
  }

  private async waitGone(tree: readonly ProcessIdentity[], timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.hasExited && !tree.some(isAlive)) return true;
      if (Date.now() >= deadline) return false;
      await sleep(POLL_MS);
    }
  }
}

interface Account {
  uid: number;
  gid: number;
}

function systemAccount(user: SystemUser): Account {
  const line = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${user}:`));
  if (line === undefined) {
    throw new Error(`System user "${user}" does not exist (it comes with the Debian package "postgresql")`);
  }
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** Whether this process runs as root: only then does `asUser` switch users (and tempDir's `owner` chown). */
export function runsAsRoot(): boolean {
  return process.getuid?.() === 0;
}

let exitHooksInstalled = false;

/** Synchronously SIGKILLs every survivor and removes the temporary directories. */
function cleanupSync(): void {
  for (const child of running) {
    try {
      child.killSync();
    } catch (error) {
      process.stderr.write(`harness: could not kill ${child.name} (pid ${child.pid}): ${String(error)}\n`);
    }
  }
  running.clear();
  for (const dir of temporaryDirs) {
    try {
      fs.rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (error) {
      process.stderr.write(`harness: could not remove ${dir}: ${String(error)}\n`);
    }
  }
  temporaryDirs.clear();
  try {
    fs.rmSync(temporaryRoot, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  } catch (error) {
    process.stderr.write(`harness: could not remove ${temporaryRoot}: ${String(error)}\n`);
  }
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", cleanupSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      // Another handler (e.g. the cluster script's graceful shutdown) owns this signal: it stops
      // our processes itself, and the "exit" hook above stays the backstop.
      if (process.listenerCount(signal) > 1) return;
      cleanupSync();
      process.exit(128 + (os.constants.signals[signal] ?? 0));
    };
    process.on(signal, onSignal);
  }
}

/**
 * Starts `command` with `args` and registers it. stdout and stderr are kept for logs(); stdin is closed.
 * The process leads its own process group, so a terminal's Ctrl-C reaches only us, and we decide the order.
 */
export function spawnManaged(name: string, command: string, args: string[], opts: SpawnOptions = {}): ManagedProcess {
  installExitHooks();
  const wrapper = ["--pdeathsig", "SIGKILL"];
  let cwd = opts.cwd;
  if (opts.asUser !== undefined && runsAsRoot()) {
    systemAccount(opts.asUser); // clear error if the user is missing
    wrapper.push(`--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, "--init-groups");
    cwd ??= os.tmpdir();
  }
  const child = spawn("setpriv", [...wrapper, "--", command, ...args], {
    cwd,
    // The marker lets the watchdog find what the process forks, wherever it ends up (owned-processes.ts).
    env: { ...process.env, ...opts.env, [OWNER_MARKER_ENV]: ownerMarker() },
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (child.pid === undefined) {
    throw new Error(`${name}: could not start ${command} (is setpriv from util-linux installed?)`);
  }
  const identity = identify(child.pid);
  if (identity !== undefined) watchServer(identity);
  const managed = new ManagedChild(name, child.pid, identity, opts.stopSignal ?? "SIGTERM", child);
  running.add(managed);
  return managed;
}

/**
 * Registers an in-process resource (e.g. an HTTP server) for stopAll; returns a function that
 * unregisters it (call it once the resource has been closed by its owner).
 */
export function onStopAll(cleanup: () => Promise<void>): () => void {
  inProcessCleanups.add(cleanup);
  return () => inProcessCleanups.delete(cleanup);
}

/** The managed processes that have not been stopped and have not exited. */
export function runningProcesses(): ManagedProcess[] {
  return [...running];
}

/** The temporary directories created by tempDir and not yet removed. */
export function temporaryDirectories(): string[] {
  return [...temporaryDirs];
}

/**
 * Stops every process this Node process started and not yet stopped, closes registered in-process
 * servers, then removes the temporary directories. Rejects (after doing all of it) if any step failed.
 */
export async function stopAll(): Promise<void> {
  const steps = [...[...running].map((child) => child.stop()), ...[...inProcessCleanups].map((cleanup) => cleanup())];
  inProcessCleanups.clear();
  const results = await Promise.allSettled(steps);
  const dirs = [...temporaryDirs];
  temporaryDirs.clear();
  // Retried: a server interrupted while creating files (initdb, pg_basebackup under pg_autoctl) may still
  // be writing its last ones for a moment after its process tree is gone (ENOTEMPTY).
  const remove = (dir: string): Promise<void> => fsp.rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  results.push(...(await Promise.allSettled(dirs.map(remove))));
  const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason as unknown] : []));
  if (errors.length > 0) {
    throw new AggregateError(errors, `stopAll: ${errors.length} step(s) failed: ${errors.map(String).join("; ")}`);
  }
}

/**
 * Polls `check` until it resolves true. A check that throws counts as "not yet"; its last error is
 * quoted in the timeout error, which names `what`.
 */
export async function waitFor(check: () => Promise<boolean>, opts: WaitForOptions): Promise<void> {
  const { timeoutMs, intervalMs = 50, what, signal } = opts;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (signal?.aborted) throw signal.reason;
    const remaining = deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const interrupted = new Promise<"interrupted">((resolve) => {
      timer = setTimeout(() => resolve("interrupted"), Math.max(remaining, 0));
      onAbort = () => resolve("interrupted");
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      const outcome = await Promise.race([check(), interrupted]);
      if (outcome === true) return;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    }
    if (signal?.aborted) throw signal.reason;
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? "" : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await sleep(Math.min(intervalMs, Math.max(deadline - Date.now(), 0)));
  }
}

/**
 * Waits until `check` passes for a process that was just started. Fails at once if the process exits
 * first, and either way the error carries the process's last output.
 */
export async function waitForReady(proc: ManagedProcess, check: () => Promise<boolean>, opts: WaitForOptions): Promise<void> {
  const abort = new AbortController();
  void proc.exited.then((code) =>
    abort.abort(new Error(`${proc.name} exited with ${code === null ? "a signal" : `code ${code}`} before ${opts.what}`)),
  );
  try {
    await waitFor(check, { ...opts, signal: abort.signal });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${reason}\n--- last output of ${proc.name} (pid ${proc.pid}) ---\n${proc.logs()}`);
  } finally {
    abort.abort(new Error("done"));
  }
}

/**
 * A new empty directory (mode 0700), owned by `owner` if given and we run as root, in this process's temporary
 * root (`<system temp dir>/gm-<pid>-<random>`, mode 0711 so that the postgres user can reach its
 * own directories). Removed by stopAll, or when this process exits, or by the watchdog if it is killed.
 */
export async function tempDir(prefix: string, owner?: SystemUser): Promise<string> {
  if (!/^[A-Za-z0-9._-]+$/.test(prefix)) {
    throw new Error(`tempDir: prefix "${prefix}" must contain only letters, digits, ".", "_" and "-"`);
  }
  installExitHooks();
  // The watchdog knows the root's name before the root exists: it removes it whenever we die.
  ensureWatchdog();
  await fsp.mkdir(temporaryRoot, { recursive: true, mode: 0o711 });
  await fsp.chmod(temporaryRoot, 0o711);
  const dir = await fsp.mkdtemp(path.join(temporaryRoot, `${prefix}-`));
  temporaryDirs.add(dir);
  if (owner !== undefined && runsAsRoot()) {
    const { uid, gid } = systemAccount(owner);
    await fsp.chown(dir, uid, gid);
  }
  return dir;
}
