/**
 * `npm run cluster -- --json` as a user runs it: one JSON line once ready, a working load balancer,
 * and on SIGINT every process stopped and every temporary directory removed. The start-up time is
 * reported, not asserted (timed assertions belong to benchmarks).
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { ClusterSummary } from "../../harness/cluster/summary";
import { spawnManaged, stopAll, tempDir, waitFor, type ManagedProcess } from "../../harness/process";

const REPO_ROOT = path.resolve(__dirname, "../..");

/** Runs `scripts/cluster.ts` with its own TMPDIR, so that what it leaves behind can be seen. */
async function runCli(args: string[]): Promise<{ cli: ManagedProcess; tmp: string }> {
  const tmp = await tempDir("cluster-cli");
  // PostgreSQL (user postgres) and nginx's workers (nobody) must reach their directories inside it.
  await fsp.chmod(tmp, 0o755);
  const cli = spawnManaged("cluster-cli", process.execPath, ["--import", "tsx", path.join(REPO_ROOT, "scripts/cluster.ts"), ...args], {
    cwd: REPO_ROOT,
    env: { TMPDIR: tmp },
  });
  return { cli, tmp };
}

/**
 * What the cluster's harness keeps under `tmp`: its temporary root (`gm-<pid>-<random>`) and the
 * directories in it, each as `<root>/<dir>`; anything else named `gomeet-*` as well.
 */
function harnessEntries(tmp: string): string[] {
  return fs
    .readdirSync(tmp)
    .filter((name) => name.startsWith("gm-") || name.startsWith("gomeet-"))
    .flatMap((name) => {
      const full = path.join(tmp, name);
      const inside = name.startsWith("gm-") && fs.statSync(full).isDirectory() ? fs.readdirSync(full) : [];
      return [name, ...inside.map((entry) => `${name}/${entry}`)];
    });
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
  const { cli } = await runCli(["--jsn"]);
  expect(await cli.exited).toBe(2);
  expect(cli.logs()).toMatch(/usage: npm run cluster/);
}, 30_000);

test("a bad --allowed-origins item: the item named on stderr, exit 2", async () => {
  const { cli } = await runCli(["--json", "--allowed-origins", "http://127.0.0.1:5173,https://app.example/path"]);
  expect(await cli.exited).toBe(2);
  expect(cli.logs()).toMatch(/--allowed-origins: "https:\/\/app\.example\/path" is not an origin/);
}, 30_000);

test("--json: one line with the whole cluster once ready; SIGINT stops everything and removes its directories", async () => {
  const began = Date.now();
  const { cli, tmp } = await runCli(["--json", "--allowed-origins", "http://127.0.0.1:5173, https://App.Gomeet.example"]);
  let summary: ClusterSummary | undefined;
  await waitFor(
    async () => {
      const line = cli
        .logs()
        .split("\n")
        .find((l) => l.startsWith("{"));
      if (line !== undefined) summary = JSON.parse(line) as ClusterSummary;
      return summary !== undefined;
    },
    { timeoutMs: 150_000, intervalMs: 100, what: "the cluster's JSON line" },
  ).catch((error: Error) => {
    throw new Error(`${error.message}\n--- output ---\n${cli.logs()}`);
  });
  const s = summary as ClusterSummary;
  process.stdout.write(
    `[cluster-cli] JSON line after ${((Date.now() - began) / 1000).toFixed(1)} s; cluster start-up ${s.startupMs.total} ms\n`,
  );
  expect(Object.keys(s)).toEqual(expect.arrayContaining(["url", "instances", "authSecret", "livekit", "redis", "postgres", "prometheus"]));
  expect(s.instances.map((i) => i.id)).toEqual(["app-1", "app-2", "app-3"]);
  expect(s.livekit.map((l) => l.name)).toEqual(["livekit-a", "livekit-b"]);
  for (const instance of s.instances) {
    expect((await fetch(`${instance.url}/healthz`)).status).toBe(200);
    // /metrics on each instance's own metrics port (what Prometheus scrapes), never on the public one.
    expect(await (await fetch(`${instance.metricsUrl}/metrics`)).text()).toContain("gomeet_ws_connections");
    expect((await fetch(`${instance.url}/metrics`)).status).toBe(404);
  }
  // The local Prometheus scrapes the three instances (job gomeet) with the service's rules loaded.
  await waitFor(
    async () => {
      const targets = (await (await fetch(`${s.prometheus.url}/api/v1/targets`)).json()) as {
        data: { activeTargets: Array<{ health: string }> };
      };
      return targets.data.activeTargets.filter((t) => t.health === "up").length === 3;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: "Prometheus to scrape the three instances" },
  );
  const rules = (await (await fetch(`${s.prometheus.url}/api/v1/rules`)).json()) as { data: { groups: Array<{ name: string }> } };
  expect(rules.data.groups.map((g) => g.name)).toEqual(["gomeet.service"]);
  // The app's readiness gauges, as the rules read them: three instances ready and healthy.
  const query = async (expr: string): Promise<string | undefined> => {
    const body = (await (await fetch(`${s.prometheus.url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as {
      data: { result: Array<{ value: [number, string] }> };
    };
    return body.data.result[0]?.value[1];
  };
  expect(await query('sum(gomeet_ready{job="gomeet"})')).toBe("3");
  expect(await query('sum(gomeet_readiness_status{job="gomeet",status="healthy"})')).toBe("3");

  const created = await fetch(`${s.url}/rooms`, {
    method: "POST",
    headers: { authorization: `Bearer ${s.demoToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "through the load balancer" }),
  });
  expect(created.status).toBe(201);
  expect(s.allowedOrigins).toEqual(["http://127.0.0.1:5173", "https://app.gomeet.example"]);
  const preflight = await fetch(`${s.url}/rooms`, {
    method: "OPTIONS",
    headers: { origin: "https://app.gomeet.example", "access-control-request-method": "POST" },
  });
  expect([preflight.status, preflight.headers.get("access-control-allow-origin")]).toEqual([204, "https://app.gomeet.example"]);

  const pids = [
    ...s.instances.map((i) => i.pid),
    s.nginx.pid,
    s.redis.haproxyPid,
    s.redis.primary.pid,
    s.redis.replica.pid,
    ...s.redis.sentinels.map((x) => x.pid),
    s.postgres.primary.pid,
    s.postgres.replica.pid,
    s.prometheus.pid,
  ];
  expect(pids.every(pidAlive)).toBe(true);
  expect(harnessEntries(tmp).filter((name) => name.includes("/")).length).toBeGreaterThanOrEqual(10);

  process.kill(cli.pid, "SIGINT");
  expect(await cli.exited).toBe(0);
  expect(pids.filter(pidAlive)).toEqual([]);
  expect(harnessEntries(tmp)).toEqual([]);
  expect(cli.logs()).toMatch(/SIGINT: stopping every process/);
}, 240_000);

test("SIGINT during start-up stops what had started and removes its directories", async () => {
  const { cli, tmp } = await runCli(["--json"]);
  await waitFor(async () => harnessEntries(tmp).some((name) => /^gm-[^/]+\/pg-monitor-/.test(name)), {
    timeoutMs: 30_000,
    intervalMs: 50,
    what: "the cluster to start creating its servers",
  });
  process.kill(cli.pid, "SIGINT");
  expect(await cli.exited).toBe(0);
  expect(cli.logs()).not.toMatch(/^\{/m);
  expect(harnessEntries(tmp)).toEqual([]);
}, 60_000);
