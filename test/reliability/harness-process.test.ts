/**
 * The process layer of the harness: managed processes end when told to (escalating to SIGKILL),
 * take what they forked with them, and never outlive the Node process that started them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEBIAN_PACKAGE, findBinary, findBinaryIn, type BinaryName } from "../../harness/binaries";
import { freePort } from "../../harness/ports";
import { identify, isAlive, processTree, type ProcessIdentity } from "../../harness/proc-tree";
import { runningProcesses, runsAsRoot, spawnManaged, stopAll, tempDir, waitFor, waitForReady } from "../../harness/process";

const TSX = path.resolve(__dirname, "../../node_modules/.bin/tsx");
const PROCESS_MODULE = path.resolve(__dirname, "../../harness/process");

afterAll(stopAll);

const allGone = (ids: readonly ProcessIdentity[]): boolean => !ids.some(isAlive);

describe("findBinary", () => {
  it.each(Object.keys(DEBIAN_PACKAGE) as BinaryName[])("finds %s on this machine", (name) => {
    const found = findBinary(name);
    expect(path.basename(found)).toBe(name);
    expect(() => fs.accessSync(found, fs.constants.X_OK)).not.toThrow();
  });

  it("keeps the PostgreSQL tools at the server's version", () => {
    const serverDir = path.dirname(fs.realpathSync(findBinary("postgres")));
    expect(path.dirname(findBinary("pg_basebackup"))).toBe(serverDir);
    expect(path.dirname(findBinary("initdb"))).toBe(serverDir);
  });

  it.each([
    ["redis-server", "redis-server"],
    ["pg_basebackup", "postgresql"],
    ["nginx", "nginx-light"],
    ["haproxy", "haproxy"],
    // The extension for the installed server's major (15 on Debian 12, 16 on Ubuntu 24.04), not a fixed name.
    ["pg_autoctl", `postgresql-${path.basename(path.dirname(path.dirname(fs.realpathSync(findBinary("postgres")))))}-auto-failover`],
  ] as const)("names %s and the Debian package %s when it is missing", (name, pkg) => {
    const empty = fs.mkdtempSync("/tmp/gomeet-nobin-");
    try {
      expect(() => findBinaryIn(name, [empty])).toThrow(new RegExp(`^${name} not found .*apt-get install -y ${pkg}$`));
    } finally {
      fs.rmSync(empty, { recursive: true });
    }
  });
});

describe("freePort", () => {
  it("hands out distinct ports that can be bound", async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, freePort));
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) expect(port).toBeGreaterThan(1024);
  });
});

describe("spawnManaged", () => {
  it("resolves exited with the exit code and keeps the last 200 lines of output", async () => {
    const proc = spawnManaged("printer", "/bin/sh", ["-c", "for i in $(seq 1 500); do echo line $i; done; echo oops >&2; exit 3"]);
    await expect(proc.exited).resolves.toBe(3);
    const lines = proc.logs().split("\n");
    expect(lines).toHaveLength(200);
    expect(lines).toContain("line 500");
    expect(lines).toContain("oops");
    expect(lines).not.toContain("line 300");
  });

  it("runs as the postgres user when asked and root, as the current user when not root (a CI runner, a developer)", async () => {
    const proc = spawnManaged("whoami", "/usr/bin/id", ["-un"], { asUser: "postgres" });
    await expect(proc.exited).resolves.toBe(0);
    expect(proc.logs().trim()).toBe(runsAsRoot() ? "postgres" : os.userInfo().username);
  });

  it("merges env over the parent's environment", async () => {
    const proc = spawnManaged("env", "/bin/sh", ["-c", 'echo "$GOMEET_X:${PATH:+has-path}"'], { env: { GOMEET_X: "42" } });
    await proc.exited;
    expect(proc.logs().trim()).toBe("42:has-path");
  });

  it("stop() escalates to SIGKILL when SIGTERM is ignored, and takes the children along", async () => {
    const proc = spawnManaged("stubborn", "/bin/sh", ["-c", "trap '' TERM; sleep 60 & echo started; wait"]);
    await waitFor(async () => proc.logs().includes("started"), { timeoutMs: 5000, what: "the stubborn shell to start" });
    const tree = processTree(proc.pid);
    expect(tree.length).toBeGreaterThanOrEqual(2); // the shell and its sleep
    const began = Date.now();
    await proc.stop(300);
    expect(Date.now() - began).toBeGreaterThanOrEqual(300);
    expect(allGone(tree)).toBe(true);
    await expect(proc.exited).resolves.toBeNull(); // ended by a signal
    expect(runningProcesses()).not.toContain(proc);
  });

  it("kill() SIGKILLs the whole tree at once", async () => {
    const proc = spawnManaged("forker", "/bin/sh", ["-c", "sleep 60 & sleep 60 & echo started; wait"]);
    await waitFor(async () => proc.logs().includes("started"), { timeoutMs: 5000, what: "the forking shell to start" });
    const tree = processTree(proc.pid);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    await proc.kill();
    expect(allGone(tree)).toBe(true);
  });

  it("a leader that dies on its own takes what is left in its process group along", async () => {
    const proc = spawnManaged("crashing-master", "/bin/sh", ["-c", "sleep 60 & sleep 60 & echo started; wait"]);
    await waitFor(async () => proc.logs().includes("started"), { timeoutMs: 5000, what: "the shell to start" });
    const tree = processTree(proc.pid);
    process.kill(proc.pid, "SIGKILL"); // the leader alone, as a crash would
    await proc.exited;
    await waitFor(async () => allGone(tree), { timeoutMs: 2000, what: "the orphaned sleeps to be killed" });
  });
});

describe("waitFor", () => {
  it("rejects naming what it waited for and the check's last error", async () => {
    await expect(
      waitFor(
        async () => {
          throw new Error("connection refused");
        },
        { timeoutMs: 150, intervalMs: 20, what: "the imaginary server" },
      ),
    ).rejects.toThrow("Timed out after 150 ms waiting for the imaginary server; last error: connection refused");
  });

  it("gives up on a check that never settles", async () => {
    const began = Date.now();
    await expect(waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 200, what: "a hung check" })).rejects.toThrow(
      "a hung check",
    );
    expect(Date.now() - began).toBeLessThan(1000);
  });

  it("waitForReady fails at once when the process exits first, quoting its output", async () => {
    const proc = spawnManaged("crasher", "/bin/sh", ["-c", "echo 'FATAL: bad config' >&2; exit 1"]);
    const began = Date.now();
    await expect(waitForReady(proc, async () => false, { timeoutMs: 10_000, what: "the crasher to listen" })).rejects.toThrow(
      /crasher exited with code 1 before the crasher to listen[\s\S]*FATAL: bad config/,
    );
    expect(Date.now() - began).toBeLessThan(2000);
  });
});

describe("tempDir", () => {
  it("creates a private directory, owned by postgres when asked (as root; by the current user otherwise), removed by stopAll", async () => {
    const mine = await tempDir("mine");
    const theirs = await tempDir("theirs", "postgres");
    expect(fs.statSync(mine).mode & 0o777).toBe(0o700);
    const postgresUid = Number(/^postgres:x:(\d+):/m.exec(fs.readFileSync("/etc/passwd", "utf8"))?.[1]);
    expect(fs.statSync(theirs).uid).toBe(runsAsRoot() ? postgresUid : process.getuid?.());
    await stopAll();
    expect(fs.existsSync(mine)).toBe(false);
    expect(fs.existsSync(theirs)).toBe(false);
  });

  it("rejects a prefix that could escape the temp dir", async () => {
    await expect(tempDir("../etc")).rejects.toThrow('prefix "../etc"');
  });
});

describe("no survivors when the Node process that started them ends", () => {
  interface Owner {
    owner: ProcessIdentity;
    /** The shell the owner started through the harness. */
    child: ProcessIdentity;
    /** The shell's own child, which has no parent-death signal of its own: the owner's watchdog ends it. */
    grandchild: ProcessIdentity;
  }

  /** Runs a script that starts, through the harness, a shell that forks `sleep 60`. */
  async function startOwner(): Promise<Owner> {
    const dir = await tempDir("owner");
    const script = path.join(dir, "owner.ts");
    fs.writeFileSync(
      script,
      [
        `import { spawnManaged } from ${JSON.stringify(PROCESS_MODULE)};`,
        'const child = spawnManaged("shell", "/bin/sh", ["-c", "sleep 60 & wait"]);',
        "console.log(JSON.stringify({ owner: process.pid, child: child.pid }));",
        "setInterval(() => undefined, 1000);",
      ].join("\n"),
    );
    const proc = spawnManaged("owner", TSX, [script]);
    let pids: { owner: number; child: number } | undefined;
    await waitForReady(
      proc,
      async () => {
        const line = proc
          .logs()
          .split("\n")
          .find((l) => l.startsWith("{"));
        if (line !== undefined) pids = JSON.parse(line) as { owner: number; child: number };
        return pids !== undefined && processTree(pids.child).length >= 2;
      },
      { timeoutMs: 15_000, what: "the owner script to start its shell and the shell its sleep" },
    );
    const { owner, child } = pids as { owner: number; child: number };
    const grandchild = processTree(child).find((p) => p.pid !== child) as ProcessIdentity;
    return { owner: identify(owner) as ProcessIdentity, child: identify(child) as ProcessIdentity, grandchild };
  }

  it.each(["SIGTERM", "SIGINT"] as const)("%s to the owner ends its processes and what they forked", async (signal) => {
    const { owner, child, grandchild } = await startOwner();
    process.kill(owner.pid, signal);
    await waitFor(async () => allGone([owner, child, grandchild]), {
      timeoutMs: 5000,
      what: `the owner, its shell and the shell's sleep to end after ${signal}`,
    });
  });

  it("SIGKILL of the owner still ends the processes it started and what they forked (its watchdog)", async () => {
    const { owner, child, grandchild } = await startOwner();
    process.kill(owner.pid, "SIGKILL");
    await waitFor(async () => allGone([owner, child, grandchild]), {
      timeoutMs: 5000,
      what: "the owner's shell and the shell's sleep to end after the owner was SIGKILLed",
    });
  });
});
