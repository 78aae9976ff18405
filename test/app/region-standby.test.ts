/**
 * The app in a standby region (REGION_ROLE=auto), against real servers: region a's instance writes to a PostgreSQL
 * primary, region b's instance has the primary's streaming replica (the cross-region read-only node) as its database
 * and its own Valkey. Region b serves reads and realtime rooms, answers writes with a fast 503 region_standby, and
 * after the replica is promoted takes writes without a restart. A resume in region b from region a's history is told
 * the history is lost, and seqs never go backwards across the regions (docs/service-contract.md).
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { SEQ_EPOCH_SPAN } from "../../app/src/db/region-role";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { sqlAt, startPostgresWithReplica, type PgPair } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, TestClient, token } from "./helpers";

let pg: PgPair;
let regionA: RunningApp;
let regionB: RunningApp;
let alice: string;

/** The detailed /readyz, on the metrics port (the public one says status and draining only). */
const readyz = async (app: RunningApp): Promise<any> => (await fetch(`${app.metricsUrl}/readyz`)).json();

beforeAll(async () => {
  const [pair, valkeyA, valkeyB, livekit] = await Promise.all([
    startPostgresWithReplica(),
    startRedis(),
    startRedis(),
    startLivekitStandIn("lk"),
  ]);
  pg = pair;
  regionA = await startApp(
    appConfig({ redisUrl: valkeyA.url, databaseUrl: pg.primary.url, livekit: [livekit] }, "a-1", { REGION_ROLE: "auto", REGION_NAME: "a" }),
  );
  // Region b's instance starts once region a's has migrated (its schema arrives by replication).
  await waitFor(
    async () =>
      (await sqlAt<{ ok: boolean }>(pg.replica.url, "SELECT to_regclass('rooms') IS NOT NULL AS ok").catch(() => []))[0]?.ok === true,
    {
      timeoutMs: 10_000,
      what: "the schema on the replica",
    },
  );
  regionB = await startApp(
    appConfig({ redisUrl: valkeyB.url, databaseUrl: pg.replica.url, livekit: [livekit] }, "b-1", { REGION_ROLE: "auto", REGION_NAME: "b" }),
  );
  alice = await token("alice");
}, 90_000);

afterAll(async () => {
  await Promise.allSettled([regionA?.stop(), regionB?.stop()]);
  await stopAll();
});

test("each region learns its role and realtime epoch from its database; the standby is ready and reports its replication lag", async () => {
  expect(await readyz(regionA)).toMatchObject({ status: "healthy", region: { name: "a", role: "primary", epoch: 1 } });
  const standby = await readyz(regionB);
  expect(standby).toMatchObject({
    status: "healthy",
    region: { name: "b", role: "standby", epoch: 2, replicationLagSeconds: expect.any(Number) },
  });
  const metrics = await (await fetch(`${regionB.metricsUrl}/metrics`)).text();
  expect(metrics).toMatch(/gomeet_region_role\{role="standby",instance="b-1"\} 1/);
  expect(metrics).toMatch(/gomeet_postgres_replication_lag_seconds\{instance="b-1"\} \d/);
});

test("the standby serves reads (a room created in region a, a definite answer for a room nowhere) and refuses writes fast with 503 region_standby", async () => {
  const id = await createRoom(regionA.url, alice, "made in a");
  await waitFor(async () => (await api(regionB.url, "GET", `/rooms/${id}`, { token: alice })).status === 200, {
    timeoutMs: 5000,
    what: "the room readable in region b",
  });
  // A room alice is no member of (here: none at all) gets the access model's definite 403 from the standby's own node,
  // not a 503 region_standby: a miss is confirmed where the region's latest data is.
  expect((await api(regionB.url, "GET", "/rooms/no-such-room", { token: alice })).status).toBe(403);
  const began = Date.now();
  const response = await fetch(`${regionB.url}/rooms`, {
    method: "POST",
    headers: { authorization: `Bearer ${alice}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "refused" }),
  });
  expect(Date.now() - began).toBeLessThan(500);
  expect(response.status).toBe(503);
  expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
  expect(await response.json()).toMatchObject({ error: { code: "region_standby" } });
});

test("realtime in the standby runs on its own Valkey with seqs above region a's; a resume from region a's history is told it is lost", async () => {
  const room = await createRoom(regionA.url, alice, "talk");
  const inA = await TestClient.connect(regionA.url, { room, token: alice });
  for (let i = 0; i < 3; i++) inA.send({ i });
  const seen = await inA.count((f) => f.type === "message", 3);
  const lastInA = seen[2]?.seq as number;
  expect(lastInA).toBe(3);
  inA.ws.close();
  await waitFor(async () => (await api(regionB.url, "GET", `/rooms/${room}`, { token: alice })).status === 200, {
    timeoutMs: 5000,
    what: "the room readable in region b",
  });
  const resumed = await TestClient.connect(regionB.url, { room, token: alice, since: lastInA });
  expect(resumed.welcome).toMatchObject({ recovered: false, historyLost: true });
  expect(resumed.welcome.seq).toBeGreaterThanOrEqual(SEQ_EPOCH_SPAN);
  resumed.send({ after: "failover" });
  const [message] = await resumed.count((f) => f.type === "message", 1);
  expect(message?.seq).toBe(SEQ_EPOCH_SPAN + 1);
  // A resume within region b's own history is an ordinary one.
  const again = await TestClient.connect(regionB.url, { room, token: alice, since: SEQ_EPOCH_SPAN });
  expect(again.welcome).toMatchObject({ recovered: true, seq: SEQ_EPOCH_SPAN + 1 });
  expect(again.welcome.historyLost).toBeUndefined();
  resumed.ws.close();
  again.ws.close();
});

test("after its database is promoted the standby takes writes without a restart, in the same realtime epoch", async () => {
  const room = await createRoom(regionA.url, alice, "before promotion");
  await waitFor(async () => (await api(regionB.url, "GET", `/rooms/${room}`, { token: alice })).status === 200, {
    timeoutMs: 5000,
    what: "the room readable in region b",
  });
  const member = await TestClient.connect(regionB.url, { room, token: alice });
  member.send({ n: 1 });
  const [before] = await member.count((f) => f.type === "message", 1);
  await pg.primary.kill();
  await sqlAt(pg.replica.url, "SELECT pg_promote(true, 30)");
  await waitFor(
    async () => (await api(regionB.url, "POST", "/rooms", { token: alice, body: { name: "after promotion" } })).status === 201,
    {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: "region b to take a write",
    },
  );
  expect(await readyz(regionB)).toMatchObject({ region: { role: "primary", epoch: 2 } });
  member.send({ n: 2 });
  const messages = await member.count((f) => f.type === "message", 2);
  expect(messages[1]?.seq).toBe((before?.seq as number) + 1);
  member.ws.close();
}, 30_000);
