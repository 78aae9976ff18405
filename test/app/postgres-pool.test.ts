/**
 * The app through a transaction-mode PgBouncer, as DATABASE_URL is on DigitalOcean (its connection
 * pool): a pool hands each transaction to any server connection, so anything that relies on session
 * state breaks there. Migrations are the classic case (a session advisory lock taken by one statement
 * and released by another may be held by a server connection the unlock never reaches).
 */
import { Client } from "pg";
import { startApp, type RunningApp } from "../../app/src/app";
import { MIGRATIONS } from "../../app/src/db/migrations";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPgBouncer, type PgBouncerPool } from "../../harness/pgbouncer";
import { DATABASE, startPostgres, type PgNode, sqlAt as sql } from "../../harness/postgres";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, token, type Backends } from "./helpers";

let primary: PgNode;
let pool: PgBouncerPool;
let backends: Backends;
const apps: RunningApp[] = [];

beforeAll(async () => {
  const [pg, redis, livekit] = await Promise.all([startPostgres(), startRedis(), startLivekitStandIn("lk")]);
  primary = pg;
  pool = await startPgBouncer({ host: "127.0.0.1", port: primary.port }, DATABASE);
  backends = { redisUrl: redis.url, databaseUrl: pool.url, livekit: [livekit] };
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(apps.map((app) => app.stop()));
  await stopAll();
});

test("through the pool a session advisory lock excludes nobody: the trap that session-locked migrations fell into", async () => {
  expect(pool.mode).toBe("transaction");
  const a = new Client({ connectionString: pool.url });
  const b = new Client({ connectionString: pool.url });
  await Promise.all([a.connect(), b.connect()]);
  try {
    expect((await a.query("SELECT pg_advisory_lock(42) IS NOT NULL AS locked")).rows[0].locked).toBe(true);
    // A real session would hold the lock; here A's statement ran on a server connection that went back to
    // the pool, B's statement gets that same connection, and a session lock is re-entrant: B "acquires" it too.
    expect((await b.query("SELECT pg_try_advisory_lock(42) AS locked")).rows[0].locked).toBe(true);
  } finally {
    await Promise.all([a.end(), b.end()]);
    // The lock is still held by PgBouncer's server connection: end that backend so the next test starts clean.
    await sql(primary.url, "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'");
  }
});

test("three instances starting together through the pool apply each migration once and leave no advisory lock held", async () => {
  apps.push(...(await Promise.all(["pool-a", "pool-b", "pool-c"].map((id) => startApp(appConfig(backends, id))))));
  const applied = await sql<{ id: number }>(primary.url, "SELECT id FROM schema_migrations ORDER BY id");
  expect(applied.map((row) => row.id)).toEqual(MIGRATIONS.map((m) => m.id));
  const locks = await sql<{ n: string }>(primary.url, "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory'");
  expect(Number(locks[0]?.n)).toBe(0);
  for (const app of apps) expect(app.readiness().dependencies.postgres.primary.healthy).toBe(true);
});

test("rooms are written and read through the pool by another instance", async () => {
  const alice = await token("alice");
  const [writer, reader] = apps as [RunningApp, RunningApp];
  const created = await api(writer.url, "POST", "/rooms", { token: alice, body: { name: "pooled" } });
  expect(created.status).toBe(201);
  const read = await api(reader.url, "GET", `/rooms/${created.body.id}`, { token: alice });
  expect(read).toEqual({ status: 200, body: created.body });
  // Every query went through PgBouncer: the app's sessions on the server belong to PgBouncer's pool.
  const direct = await sql<{ n: string }>(
    primary.url,
    "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'gomeet-app' AND client_port IS NOT NULL",
  );
  expect(Number(direct[0]?.n)).toBeGreaterThan(0);
});
