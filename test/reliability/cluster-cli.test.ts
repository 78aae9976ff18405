/**
 * `npm run cluster -- --json` as a user runs it: one JSON line once ready, a working load balancer,
 * and on SIGINT every process stopped and every temporary directory removed. The start-up time is
 * reported, not asserted (timed assertions belong to benchmarks).
 */
import fs from "node:fs";
import path from "node:path";
import type { ClusterSummary } from "../../scripts/cluster/summary";
import { spawnManaged, stopAll, waitFor, type ManagedProcess } from "../support/process";

const REPO_ROOT = path.resolve(__dirname, "../..");

function runCli(args: string[]): ManagedProcess {
  return spawnManaged(`cluster-cli`, process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "scripts/cluster.ts"), ...args], { cwd: REPO_ROOT });
}

function pidAlive(pid: number): boolean {
  try {
    const state = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z";
  } catch {
    return false;
  }
}

afterAll(stopAll);

test("bad arguments: usage on stderr, exit 2", async () => {
  const cli = runCli(["--jsn"]);
  expect(await cli.exited).toBe(2);
  expect(cli.logs()).toMatch(/usage: npm run cluster/);
}, 30_000);

test("--json: one line with the whole cluster once ready; SIGINT stops everything and removes its directories", async () => {
  const began = Date.now();
  const cli = runCli(["--json"]);
  let summary: ClusterSummary | undefined;
  await waitFor(
    async () => {
      const line = cli.logs().split("\n").find((l) => l.startsWith("{"));
      if (line !== undefined) summary = JSON.parse(line) as ClusterSummary;
      return summary !== undefined;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: "the cluster's JSON line" },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- output ---\n${cli.logs()}`);
  });
  const s = summary as ClusterSummary;
  process.stdout.write(`[cluster-cli] JSON line after ${((Date.now() - began) / 1000).toFixed(1)} s; cluster start-up ${s.startupMs.total} ms\n`);
  expect(Object.keys(s)).toEqual(expect.arrayContaining(["url", "instances", "authSecret", "livekit", "redis", "postgres"]));
  expect(s.instances.map((i) => i.id)).toEqual(["app-1", "app-2", "app-3"]);
  expect(s.livekit.map((l) => l.name)).toEqual(["livekit-a", "livekit-b"]);
  for (const instance of s.instances) expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);

  const created = await fetch(`${s.url}/rooms`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.demoToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "through the load balancer" }),
  });
  expect(created.status).toBe(201);

  const pids = [
    ...s.instances.map((i) => i.pid),
    s.nginx.pid,
    s.redis.haproxyPid,
    s.redis.primary.pid,
    s.redis.replica.pid,
    ...s.redis.sentinels.map((x) => x.pid),
    s.postgres.primary.pid,
    s.postgres.replica.pid,
  ];
  expect(pids.every(pidAlive)).toBe(true);
  const dirs = [path.dirname(s.postgres.primary.dataDir), path.dirname(s.postgres.replica.dataDir)];
  expect(dirs.every((d) => fs.existsSync(d))).toBe(true);

  process.kill(cli.pid, "SIGINT");
  expect(await cli.exited).toBe(0);
  expect(pids.filter(pidAlive)).toEqual([]);
  expect(dirs.filter((d) => fs.existsSync(d))).toEqual([]);
  expect(cli.logs()).toMatch(/SIGINT: stopping every process/);
}, 120_000);
