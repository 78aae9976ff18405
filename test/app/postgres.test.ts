/**
 * PostgreSQL access against a real primary and streaming replica: migrations once under the
 * advisory lock, reads from the replica with fallback to the primary, a dropped connection retried,
 * and fast 503s for writes while the primary is away (realtime and reads keep working).
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { MIGRATIONS } from "../../app/src/db/migrations";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgresWithReplica, type PgPair, sqlAt as sql } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, TestClient, token, type Backends } from "./helpers";

let pg: PgPair;
let backends: Backends;
let writer: RunningApp;
let reader: RunningApp;
let alice: string;

/** GET /rooms/:id on the reader, for a room it has never seen (its in-process cache is per room). */
async function readOnReader(): Promise<{ status: number; body: any; id: string }> {
  const id = await createRoom(writer.url, alice);
  // The replica applies the insert asynchronously.
  await waitFor(async () => (await sql(pg.replica.url, `SELECT 1 FROM rooms WHERE id = '${id}'`)).length === 1, {
    timeoutMs: 5000,
    what: "the room on the replica",
  });
  return { ...(await api(reader.url, "GET", `/rooms/${id}`, { token: alice })), id };
}

beforeAll(async () => {
  const [pair, redis, livekit] = await Promise.all([startPostgresWithReplica(), startRedis(), startLivekitStandIn("lk")]);
  pg = pair;
  backends = { redisUrl: redis.url, databaseUrl: pg.primary.url, replicaUrls: [pg.replica.url], livekit: [livekit] };
  alice = await token("alice");
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([writer?.stop(), reader?.stop()]);
  await stopAll();
});

test("instances starting together apply each migration once, under the advisory lock", async () => {
  [writer, reader] = await Promise.all([startApp(appConfig(backends, "pg-writer")), startApp(appConfig(backends, "pg-reader"))]);
  const applied = await sql<{ id: number }>(pg.primary.url, "SELECT id FROM schema_migrations ORDER BY id");
  expect(applied.map((row) => row.id)).toEqual(MIGRATIONS.map((m) => m.id));
  expect(writer.readiness().status).toBe("healthy");
  await waitFor(async () => (await sql(pg.replica.url, "SELECT id FROM schema_migrations")).length === MIGRATIONS.length, {
    timeoutMs: 5000,
    what: "the migrations on the replica",
  });
});

test("POST /rooms writes on the primary; another instance reads the room", async () => {
  const created = await api(writer.url, "POST", "/rooms", { token: alice, body: { name: "  Standup  " } });
  expect(created.status).toBe(201);
  expect(created.body).toEqual({
    id: expect.stringMatching(/^[A-Za-z0-9_-]{16}$/),
    name: "Standup",
    createdAt: expect.any(String),
    role: "owner",
  });
  expect(new Date(created.body.createdAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  const read = await api(reader.url, "GET", `/rooms/${created.body.id}`, { token: alice });
  expect(read).toEqual({ status: 200, body: created.body });
});

test("reads keep working on the replica while the primary is down; writes answer 503 fast; realtime is unaffected", async () => {
  const room = await createRoom(writer.url, alice);
  const member = await TestClient.connect(writer.url, { room, token: alice });
  // The test servers commit asynchronously (synchronous_commit = off): flush before the crash.
  await sql(pg.primary.url, "CHECKPOINT");
  await pg.primary.kill();
  try {
    await waitFor(async () => !writer.readiness().dependencies.postgres.primary.healthy, {
      timeoutMs: 5000,
      what: "the primary to be seen down",
    });
    const readiness = await api(writer.metricsUrl, "GET", "/readyz");
    expect(readiness.status).toBe(200);
    expect(readiness.body.status).toBe("degraded");
    expect(readiness.body.dependencies.postgres.primary.healthy).toBe(false);

    const started = Date.now();
    const refused = await api(writer.url, "POST", "/rooms", { token: alice, body: { name: "while down" } });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe("database_unavailable");
    expect(Date.now() - started).toBeLessThan(1500);

    // A room this instance has never seen is read from the replica.
    const unseen = await api(reader.url, "GET", `/rooms/${room}`, { token: alice });
    expect(unseen.status).toBe(200);
    member.send("still here");
    await member.next((f) => f.type === "message" && f.data === "still here");
  } finally {
    await member.close();
    await pg.primary.start();
  }
  await waitFor(async () => writer.readiness().dependencies.postgres.primary.healthy, {
    timeoutMs: 10_000,
    what: "the primary to be seen up again",
  });
  expect((await api(writer.url, "POST", "/rooms", { token: alice, body: { name: "after" } })).status).toBe(201);
});

test("reads still succeed right after the replica dropped the app's connections (retried on the next candidate)", async () => {
  // Make sure the reader holds pooled connections on the replica, then cut them server-side.
  expect((await readOnReader()).status).toBe(200);
  const terminated = await sql<{ ok: boolean }>(
    pg.replica.url,
    "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'gomeet-app' AND pid <> pg_backend_pid()",
  );
  expect(terminated.length).toBeGreaterThan(0);
  const read = await readOnReader();
  expect(read.status).toBe(200);
  expect(read.body.id).toBe(read.id);
});

test("with the replica down, reads go to the primary and readiness is degraded", async () => {
  await pg.replica.stop();
  try {
    const id = await createRoom(writer.url, alice);
    const read = await api(reader.url, "GET", `/rooms/${id}`, { token: alice });
    expect(read.status).toBe(200);
    expect(read.body.id).toBe(id);
    await waitFor(async () => !reader.readiness().dependencies.postgres.replicas[0]?.healthy, {
      timeoutMs: 5000,
      what: "the replica to be seen down",
    });
    const readiness = await api(reader.metricsUrl, "GET", "/readyz");
    expect(readiness.status).toBe(200);
    expect(readiness.body.status).toBe("degraded");
    expect(readiness.body.dependencies.postgres.replicas).toEqual([expect.objectContaining({ healthy: false })]);
  } finally {
    await pg.replica.start();
  }
  await waitFor(async () => reader.readiness().status === "healthy", { timeoutMs: 10_000, what: "readiness to be healthy again" });
});
