/**
 * Every drill of `npm run drills`, on one local cluster (three app instances behind nginx,
 * Sentinel-managed Valkey behind HAProxy, PostgreSQL as a pg_auto_failover formation behind HAProxy and
 * a transaction-mode PgBouncer, with a read-only replica; two LiveKit stand-ins), in the runner's order:
 * the same pass criteria (required alerts included), with less load and fewer malformed inputs.
 */
import fs from "node:fs";
import path from "node:path";
import { startCluster, type Cluster } from "../../harness/cluster/cluster";
import { clusterPieces, runControlCommand } from "../../harness/cluster/control";
import { badInput } from "../../drills/faults/bad-input";
import { instanceKill } from "../../drills/faults/instance-kill";
import { livekitOutage } from "../../drills/faults/livekit-outage";
import { postgresFailover } from "../../drills/faults/postgres-failover";
import { postgresPrimaryLoss } from "../../drills/faults/postgres-primary-loss";
import { postgresReplicaLoss } from "../../drills/faults/postgres-replica-loss";
import { rollingRestart } from "../../drills/faults/rolling-restart";
import { valkeyFailover } from "../../drills/faults/valkey-failover";
import { valkeyPrimaryHang } from "../../drills/faults/valkey-primary-hang";
import { formatTable } from "../../drills/report";
import { DRILLS, runDrill } from "../../drills/runner";
import type { Drill, DrillResult, DrillScale } from "../../drills/types";
import { isAlive, processTree, type ProcessIdentity } from "../../harness/proc-tree";
import { runningProcesses, stopAll, temporaryDirectories } from "../../harness/process";

const SCALE: DrillScale = { rooms: 3, clientsPerRoom: 3, sendIntervalMs: 100, badInputs: 2000, warmupMs: 1000 };

let cluster: Cluster;
const seen = new Map<number, ProcessIdentity>();

function rememberProcesses(): void {
  for (const id of runningProcesses().flatMap((p) => processTree(p.pid))) seen.set(id.pid, id);
}

beforeAll(async () => {
  cluster = await startCluster();
  rememberProcesses();
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  await stopAll();
});

/** The drills this suite ran, in order. */
const ran: string[] = [];

async function drill(subject: Drill): Promise<DrillResult> {
  ran.push(subject.name);
  const progress: string[] = [];
  const result = await runDrill(cluster, subject, SCALE, (line) => progress.push(line));
  rememberProcesses();
  if (!result.passed) {
    throw new Error(`${subject.name} failed:\n${formatTable([result])}\nprogress:\n  ${progress.join("\n  ")}`);
  }
  expect(result.lost).toBe(0);
  expect(result.duplicates).toBe(0);
  return result;
}

test("cluster: every instance healthy behind the load balancer", async () => {
  // Start-up time is reported, not asserted (timed assertions belong to benchmarks; `npm run drills` prints it too).
  process.stdout.write(
    `[drills] cluster ready in ${cluster.startupMs.total} ms (backing services ${cluster.startupMs.backingServices} ms, app instances ${cluster.startupMs.appInstances} ms)\n`,
  );
  const health = await fetch(`${cluster.url}/healthz`);
  expect(health.status).toBe(200);
  for (const instance of cluster.instances) {
    const readiness = (await (await fetch(`${instance.metricsUrl}/readyz`)).json()) as { status: string; instance: string };
    expect(readiness).toMatchObject({ status: "healthy", instance: instance.id });
  }
});

test("the prompt's pieces: kill an instance, see it down, start it again at the same address, pause and resume it", async () => {
  const pieces = clusterPieces(cluster);
  const app2 = cluster.instances[1] as Cluster["instances"][number];
  const before = app2.pid;
  expect(await runControlCommand(pieces, "kill app-2")).toMatch(/app-2: kill done .* now .* down/);
  expect(await runControlCommand(pieces, "status")).toMatch(/app-2\s+http:\/\/127\.0\.0\.1:\d+ down/);
  expect(await runControlCommand(pieces, "start app-2")).toMatch(/app-2: start done .* running \(pid \d+\)/);
  expect(app2.pid).not.toBe(before);
  expect((await fetch(`${app2.url}/readyz`)).status).toBe(200);
  expect(await runControlCommand(pieces, "pause app-2")).toMatch(/app-2: pause done .* paused/);
  await expect(fetch(`${app2.url}/healthz`, { signal: AbortSignal.timeout(500) })).rejects.toThrow();
  expect(await runControlCommand(pieces, "resume app-2")).toMatch(/app-2: resume done .* running/);
  expect((await fetch(`${app2.url}/healthz`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
  rememberProcesses();
}, 60_000);

// 150 s: the drill keeps the instance down until GoMeetInstanceDown fires (about 4 s; it fails after 90 s).
test(
  "instance-kill: SIGKILL an instance; recovery ≤ 2 s, nothing lost or duplicated",
  async () => void (await drill(instanceKill)),
  150_000,
);

// 120 s: three restarts, then up to 30 s for GoMeetInstanceDown (required; GoMeetReplicasBelowFloor is informational).
test(
  "rolling-restart: SIGTERM and restart each instance in turn; 0 failed requests, nothing lost, every instance exits 0",
  async () => void (await drill(rollingRestart)),
  120_000,
);

// 120 s: the failover under load (GoMeetHttp5xxRatioHigh is informational at this scale: drills/alerts.ts).
test(
  "valkey-failover: SIGKILL the Valkey primary; writes back within 5 s, no acknowledged message lost",
  async () => void (await drill(valkeyFailover)),
  120_000,
);

test("postgres-replica-loss: SIGKILL the PostgreSQL replica; no failed read", async () => void (await drill(postgresReplicaLoss)), 60_000);

// 90 s: a 4 s cut, then up to 30 s for GoMeetCriticalDependencyDown (required).
test(
  "postgres-primary-loss: the primary unreachable for 4 s; reads continue, writes fail fast with 503 and succeed once it is back",
  async () => void (await drill(postgresPrimaryLoss)),
  90_000,
);

test(
  "livekit-outage: the pinned LiveKit deployment goes away; no token for it after it is detected, no failed request",
  async () => void (await drill(livekitOutage)),
  60_000,
);

test("postgres-failover: SIGKILL the PostgreSQL primary node; the standby is promoted, writes back within 10 s, no failed read, no app restart", async () => {
  const result = await drill(postgresFailover);
  // The figures the drill reports in its JSON; acknowledged writes lost are reported (asynchronous standby), not judged.
  expect(result.figures).toMatchObject({ failedReads: 0, appRestarts: 0, ackedWritesLost: expect.any(Number) });
  expect(result.figures?.writeOutageSeconds).toBeLessThanOrEqual(10);
  process.stdout.write(`[drills] postgres-failover: ${JSON.stringify(result.figures)}\n`);
}, 120_000);

// 150 s: the barrage, then the hostile cases (deep nesting, never-reading resumes of a filled room, never-closing
// garbage requests, 40 close codes, one user's many sockets), each waiting for the instance to settle.
test("bad-input: 2,000 malformed inputs; every one refused, no crash, state intact", async () => void (await drill(badInput)), 150_000);

// 120 s: up to 20 s for the promotion and 20 s for the thawed node to rejoin, each with the load.
test(
  "valkey-primary-hang: SIGSTOP the Valkey primary, SIGCONT after the failover; writes back within 5 s, the old primary rejoins unrouted",
  async () => void (await drill(valkeyPrimaryHang)),
  120_000,
);

/** Drills that need a cluster of their own run in their own suite: region-loss needs two regions. */
const OWN_SUITES: Record<string, string> = { "region-loss": "region-loss.test.ts" };

test("every drill of the runner runs here, or in its own suite", () => {
  const elsewhere = Object.keys(OWN_SUITES);
  expect(
    DRILLS.map((d) => d.name)
      .filter((name) => !elsewhere.includes(name))
      .sort(),
  ).toEqual([...ran].sort());
  for (const [name, file] of Object.entries(OWN_SUITES)) {
    const camel = name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    expect([name, fs.readFileSync(path.join(__dirname, file), "utf8").includes(`Drill(two, ${camel},`)]).toEqual([name, true]);
  }
});

test("stopping the cluster leaves no process and no temporary directory", async () => {
  await cluster.stop();
  await stopAll();
  expect(runningProcesses()).toEqual([]);
  expect(temporaryDirectories()).toEqual([]);
  const survivors = [...seen.values()].filter(isAlive);
  expect(survivors).toEqual([]);
}, 60_000);
