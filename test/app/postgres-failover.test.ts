/**
 * One instance through a real promotion, against the topology DigitalOcean runs (pg_auto_failover
 * primary + standby behind an endpoint that follows the primary, PgBouncer in transaction mode as
 * DATABASE_URL, a read-only replica as DATABASE_REPLICA_URLS): while there is no primary, writes
 * answer 503 database_unavailable fast; as soon as the endpoint has a writable primary again, writes
 * succeed; reads never fail; the instance is not restarted and its readiness comes back by itself.
 */
import { randomBytes } from "node:crypto";
import { sqlAt as sql } from "../../harness/postgres";
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgresHA, type PostgresHA } from "../../harness/postgres-ha";
import { stopAll, waitFor } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, token } from "./helpers";

let ha: PostgresHA;
let app: RunningApp;
let alice: string;

beforeAll(async () => {
  const [pg, redis, livekit] = await Promise.all([startPostgresHA(), startRedis(), startLivekitStandIn("lk")]);
  ha = pg;
  const backends = { redisUrl: redis.url, databaseUrl: ha.pool.url, replicaUrls: [ha.replica.url], livekit: [livekit] };
  // The test creates a room every few tens of milliseconds as one user: far over the per-user limit.
  app = await startApp(appConfig(backends, "pg-failover", { RATE_LIMIT_ROOM_CREATES: "1000000" }));
  alice = await token("alice");
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await stopAll();
});

interface Attempt {
  kind: "write" | "read";
  start: number;
  ms: number;
  status: number;
  code?: string;
}

test("a promotion: writes fail fast with 503 while there is no primary and succeed as soon as there is one; no read fails; no restart", async () => {
  // Rooms the instance has never seen, alice owning each (rooms are read by their members only), on the replica
  // already: reading one is a database read (the room and alice's role).
  const unseen = Array.from({ length: 400 }, () => `unseen-${randomBytes(6).toString("hex")}`);
  await sql(
    ha.endpoint.url,
    `WITH seeded AS (INSERT INTO rooms (id, name, created_by) SELECT id, 'seeded', 'alice' FROM unnest($1::text[]) AS id RETURNING id)
     INSERT INTO room_members (room_id, user_id, role) SELECT id, 'alice', 'owner' FROM seeded`,
    [unseen],
  );
  await waitFor(
    async () =>
      Number(
        (await sql<{ n: string }>(ha.replica.url, "SELECT count(*) AS n FROM room_members WHERE room_id = ANY($1)", [unseen]))[0]?.n,
      ) === unseen.length,
    {
      timeoutMs: 10_000,
      what: "the seeded rooms and their owner on the replica",
    },
  );
  expect((await api(app.url, "POST", "/rooms", { token: alice, body: { name: "before" } })).status).toBe(201);

  const victim = await ha.currentPrimary();
  if (victim === undefined) throw new Error("no primary before the test");
  const standby = ha.formation.nodes.find((n) => n !== victim) as NonNullable<typeof victim>;
  // When the endpoint first routes to the new primary (HAProxy's check passed: writable, not read-only).
  let writableAt: number | undefined;
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const status = await ha.endpoint.serverStatus().catch(() => ({}) as Record<string, { status: string }>);
      if (writableAt === undefined && status[`${standby.host}:${standby.port}`]?.status === "UP") writableAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  const attempts: Attempt[] = [];
  const attempt = async (kind: Attempt["kind"]): Promise<Attempt> => {
    const start = Date.now();
    const answer =
      kind === "write"
        ? await api(app.url, "POST", "/rooms", { token: alice, body: { name: "during" } })
        : await api(app.url, "GET", `/rooms/${unseen.shift() ?? "missing"}`, { token: alice });
    const result = { kind, start, ms: Date.now() - start, status: answer.status, code: answer.body?.error?.code };
    attempts.push(result);
    return result;
  };

  const killedAt = Date.now();
  await victim.kill();
  let firstWriteOk: Attempt | undefined;
  while (firstWriteOk === undefined && Date.now() - killedAt < 30_000) {
    const [write] = await Promise.all([attempt("write"), attempt("read")]);
    if (write.status === 201) firstWriteOk = write;
    else await new Promise((resolve) => setTimeout(resolve, 25));
  }
  watching = false;
  await watch;

  const writes = attempts.filter((a) => a.kind === "write");
  const failedWrites = writes.filter((a) => a.status !== 201);
  const reads = attempts.filter((a) => a.kind === "read");
  process.stdout.write(
    `[pg-failover] ${failedWrites.length} writes refused (slowest ${Math.max(...failedWrites.map((a) => a.ms))} ms); ` +
      `endpoint writable ${writableAt === undefined ? "never" : `${writableAt - killedAt} ms`} after the kill, first write ok ` +
      `${firstWriteOk === undefined ? "never" : `${firstWriteOk.start + firstWriteOk.ms - killedAt} ms`}; ${reads.length} reads\n`,
  );
  expect(firstWriteOk).toBeDefined();
  expect(failedWrites.length).toBeGreaterThan(0);
  for (const refused of failedWrites) {
    expect({ status: refused.status, code: refused.code }).toEqual({ status: 503, code: "database_unavailable" });
    expect(refused.ms).toBeLessThan(2000);
  }
  expect(reads.filter((a) => a.status !== 200)).toEqual([]);
  // As soon as there is a primary: a write succeeds within 1.5 s of the endpoint becoming writable
  // (PgBouncer retries its server login every 0.2 s; a write already waiting in it may still time out).
  expect(writableAt).toBeDefined();
  const firstOkAt = (firstWriteOk as Attempt).start + (firstWriteOk as Attempt).ms;
  expect(firstOkAt - (writableAt as number)).toBeLessThan(1500);
  // The same instance recovers by itself.
  await waitFor(async () => app.readiness().dependencies.postgres.primary.healthy, {
    timeoutMs: 10_000,
    what: "the primary to be seen healthy again",
  });
  expect((await api(app.url, "POST", "/rooms", { token: alice, body: { name: "after" } })).status).toBe(201);
}, 90_000);
