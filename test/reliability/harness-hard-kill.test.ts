/**
 * A hard kill (SIGKILL of the whole process group, as a CI runner's timeout or a killed jest worker
 * does) of a Node process that started servers through the harness leaves no server and no temporary
 * directory behind: not the pg_auto_failover keepers and PostgreSQL servers, which start sessions of
 * their own, nor PostgreSQL and Redis started directly.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { OWNER_MARKER_ENV } from "../../harness/owned-processes";
import { identify, isAlive, processTree, type ProcessIdentity } from "../../harness/proc-tree";
import { spawnManaged, stopAll, tempDir, waitFor, waitForReady, type ManagedProcess } from "../../harness/process";

const TSX = path.resolve(__dirname, "../../node_modules/.bin/tsx");
const HARNESS = path.resolve(__dirname, "../../harness");
/** "Within a few seconds": the watchdog notices at once (its pipe's EOF) and needs a moment to stop and kill. */
const PROCESSES_GONE_MS = 8000;
/**
 * Removing the directories takes what the filesystem takes: on the build machine (ext4 mounted with `discard`)
 * `rm -rf` of a formation's 190 MB (three data directories, mostly WAL) took 7.6-12.5 s, the watchdog's own
 * report said "removing ... 12456 ms" while finding, stopping and killing 39 processes took 0.7 s.
 */
const DIRECTORIES_GONE_MS = 45_000;

afterAll(stopAll);

interface Started {
  owner: number;
  dirs: string[];
}

/**
 * Everything on this machine whose working directory or command line lies in one of `dirs`, and what it
 * forked (the owner's watchdog, whose command line names the temporary root, too: it must end as well).
 */
function processesIn(dirs: readonly string[]): ProcessIdentity[] {
  const found: ProcessIdentity[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let cwd = "";
    let cmdline = "";
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue; // gone, or a kernel thread
    }
    const id = identify(pid);
    if (id !== undefined && dirs.some((dir) => cwd.startsWith(dir) || cmdline.includes(dir))) found.push(id, ...processTree(pid));
  }
  return found;
}

/** Starts, in a child Node process (tsx, as `npm run cluster` runs), the servers `body` starts; resolves once they run. */
async function startOwner(label: string, body: string[]): Promise<{ proc: ManagedProcess; started: Started; ours: ProcessIdentity[] }> {
  const dir = await tempDir(`hard-kill-${label}`);
  const script = path.join(dir, "owner.ts");
  fs.writeFileSync(
    script,
    [
      `import { temporaryDirectories } from ${JSON.stringify(path.join(HARNESS, "process"))};`,
      `import { temporaryRoot } from ${JSON.stringify(path.join(HARNESS, "watchdog"))};`,
      `import { startPgFormation } from ${JSON.stringify(path.join(HARNESS, "pg-formation"))};`,
      `import { startPostgres } from ${JSON.stringify(path.join(HARNESS, "postgres"))};`,
      `import { startRedis } from ${JSON.stringify(path.join(HARNESS, "redis-node"))};`,
      "async function main(): Promise<void> {",
      ...body,
      "  console.log(JSON.stringify({ owner: process.pid, dirs: [...temporaryDirectories(), temporaryRoot] }));",
      "  setInterval(() => undefined, 1000);",
      "}",
      "void main();",
      "void [startPgFormation, startPostgres, startRedis];",
    ].join("\n"),
  );
  const proc = spawnManaged(`hard-kill-owner-${label}`, TSX, [script]);
  let started: Started | undefined;
  await waitForReady(
    proc,
    async () => {
      const line = proc
        .logs()
        .split("\n")
        .find((l) => l.startsWith("{"));
      if (line !== undefined) started = JSON.parse(line) as Started;
      return started !== undefined;
    },
    { timeoutMs: 120_000, intervalMs: 200, what: `the ${label} owner to start its servers` },
  );
  const result = started as Started;
  const ours = [...processTree(proc.pid), ...processesIn(result.dirs)];
  return { proc, started: result, ours };
}

/** The owner's watchdog ends last, once it has removed the directories: the servers are everything else. */
function isWatchdogProcess(id: ProcessIdentity): boolean {
  try {
    return fs.readFileSync(`/proc/${id.pid}/cmdline`, "utf8").includes("watchdog-main.ts");
  } catch {
    return false;
  }
}

function describeLeftovers(proc: ManagedProcess, started: Started, ours: ProcessIdentity[], error: Error): Error {
  const left = [...new Set([...ours.filter(isAlive), ...processesIn(started.dirs)].map((p) => p.pid))];
  const running = left.map((pid) => {
    const cmdline = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ") : "?";
    return `${pid} ${cmdline.slice(0, 120)}`;
  });
  const dirs = started.dirs.filter((d) => fs.existsSync(d));
  return new Error(
    `${error.message}: still running ${running.join("; ") || "none"}; still there ${dirs.join(", ") || "none"}\n` +
      `--- the owner's last output (its watchdog reports there) ---\n${proc.logs().split("\n").slice(-15).join("\n")}`,
  );
}

async function hardKillAndExpectNothingLeft(proc: ManagedProcess, started: Started, ours: ProcessIdentity[]): Promise<void> {
  // tsx runs the script in a child of its own, in the same process group: the group goes, as with a CI runner's kill.
  process.kill(-proc.pid, "SIGKILL");
  const serversGone = async (): Promise<boolean> =>
    !ours.some((p) => isAlive(p) && !isWatchdogProcess(p)) && processesIn(started.dirs).filter((p) => !isWatchdogProcess(p)).length === 0;
  const fail = (error: Error): never => {
    throw describeLeftovers(proc, started, ours, error);
  };
  await waitFor(serversGone, { timeoutMs: PROCESSES_GONE_MS, intervalMs: 100, what: "every server of the killed owner to end" }).catch(
    fail,
  );
  const allGone = async (): Promise<boolean> =>
    (await serversGone()) && !ours.some(isAlive) && processesIn(started.dirs).length === 0 && started.dirs.every((d) => !fs.existsSync(d));
  await waitFor(allGone, {
    timeoutMs: DIRECTORIES_GONE_MS,
    intervalMs: 200,
    what: "the killed owner's temporary directories to be removed and its watchdog to end",
  }).catch(fail);
}

describe("a hard kill of a Node process that started servers through the harness", () => {
  it("leaves no pg_auto_failover keeper, PostgreSQL or temporary directory behind", async () => {
    const { proc, started, ours } = await startOwner("formation", ["  await startPgFormation();"]);
    expect(ours.length).toBeGreaterThanOrEqual(8); // the monitor's and both nodes' keepers and servers, and more
    expect(started.dirs.length).toBeGreaterThanOrEqual(4); // the monitor's and both nodes' homes, and the temporary root
    await hardKillAndExpectNothingLeft(proc, started, ours);
  }, 180_000);

  it("leaves no PostgreSQL, Redis or temporary directory behind, and leaves other owners' processes alone", async () => {
    // Another owner's server (another token) in the same /tmp: the watchdog must not touch it.
    const bystander = spawn("/bin/sleep", ["60"], { cwd: os.tmpdir(), env: { ...process.env, [OWNER_MARKER_ENV]: "999.1.other" } });
    try {
      const { proc, started, ours } = await startOwner("pg-redis", ["  await Promise.all([startPostgres(), startRedis()]);"]);
      await hardKillAndExpectNothingLeft(proc, started, ours);
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
    } finally {
      bystander.kill("SIGKILL");
    }
  }, 120_000);
});
