/**
 * The access model (docs/service-contract.md, "Access") against two real instances, PostgreSQL, Valkey and a
 * LiveKit stand-in: a room's creator owns it; only its members (added by the owner) may read it, list its
 * participants, join or resume its WebSocket, or get a LiveKit token, whose grants come from the role. Anyone
 * else gets 403 `room_access_denied`, the same answer as for a room that does not exist.
 */
import { Pool } from "pg";
import { TokenVerifier } from "livekit-server-sdk";
import { startApp, type RunningApp } from "../../app/src/app";
import { migrate, MIGRATIONS } from "../../app/src/db/migrations";
import { createLogger } from "../../app/src/logger";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { sqlAt, startPostgres } from "../../harness/postgres";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { addMember, api, appConfig, createRoom, OpenClients, refusedUpgrade, sleep, token, type Backends } from "./helpers";

let a: RunningApp;
let b: RunningApp;
let livekit: LivekitStandIn;
let postgresUrl: string;
let owner: string;
let member: string;
let viewer: string;
let stranger: string;
const clients = new OpenClients();

beforeAll(async () => {
  const [redis, postgres, lk] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk-access")]);
  livekit = lk;
  postgresUrl = postgres.url;
  const backends: Backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  [a, b] = await Promise.all([startApp(appConfig(backends, "access-a")), startApp(appConfig(backends, "access-b"))]);
  [owner, member, viewer, stranger] = await Promise.all([
    token("olivia", { name: "Olivia" }),
    token("max"),
    token("vera"),
    token("mallory"),
  ]);
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await stopAll();
});

/** A room owned by olivia with max as a member and vera as a viewer. */
function newRoom(): Promise<string> {
  return createRoom(a.url, owner, "access", { max: "member", vera: "viewer" });
}

const denied = (room: string) => ({
  status: 403,
  body: { error: { code: "room_access_denied", message: `You are not a member of room ${room}, or it does not exist` } },
});

describe("who may touch a room", () => {
  test("the creator owns the room; members read it, with their role", async () => {
    const created = await api(a.url, "POST", "/rooms", { token: owner, body: { name: "mine" } });
    expect(created.status).toBe(201);
    expect(created.body.role).toBe("owner");
    const room = created.body.id as string;
    await addMember(a.url, owner, room, "max");
    expect((await api(b.url, "GET", `/rooms/${room}`, { token: owner })).body).toMatchObject({ id: room, name: "mine", role: "owner" });
    // Added on instance a, read at once on instance b.
    expect((await api(b.url, "GET", `/rooms/${room}`, { token: member })).body).toMatchObject({ id: room, role: "member" });
    const listed = await api(b.url, "GET", `/rooms/${room}/members`, { token: member });
    expect(listed.status).toBe(200);
    expect(listed.body.members.map((m: { userId: string; role: string }) => [m.userId, m.role])).toEqual([
      ["olivia", "owner"],
      ["max", "member"],
    ]);
  });

  test("a non-member is refused everywhere with 403 room_access_denied, exactly as for a room that does not exist", async () => {
    const room = await newRoom();
    for (const target of ["does-not-exist", room]) {
      for (const [method, path] of [
        ["GET", `/rooms/${target}`],
        ["GET", `/rooms/${target}/participants`],
        ["GET", `/rooms/${target}/members`],
        ["POST", `/rooms/${target}/token`],
      ] as const) {
        expect(await api(a.url, method, path, { token: stranger })).toEqual(denied(target));
      }
      expect(await refusedUpgrade(b.url, { room: target, access_token: stranger })).toEqual(denied(target));
      expect(await refusedUpgrade(b.url, { room: target, access_token: stranger, since: "0" })).toEqual(denied(target));
    }
  });

  test("a non-member can read neither live messages nor history", async () => {
    const room = await newRoom();
    const writer = await clients.connect(a.url, room, member);
    writer.send({ secret: 1 });
    await writer.next((f) => f.type === "message");
    const participants = await api(b.url, "GET", `/rooms/${room}/participants`, { token: owner });
    expect(participants.body.participants.map((p: { user: { id: string } }) => p.user.id)).toEqual(["max"]);
    expect((await refusedUpgrade(b.url, { room, access_token: stranger, since: "0" })).status).toBe(403);
  });
});

describe("roles", () => {
  test("a viewer receives messages and history but cannot send: read_only, and nothing reaches the room", async () => {
    const room = await newRoom();
    const writer = await clients.connect(a.url, room, member);
    writer.send({ n: 1 });
    await writer.next((f) => f.type === "message");
    const watching = await clients.connect(b.url, room, viewer, 0);
    expect(watching.welcome.recovered).toBe(true);
    await watching.next((f) => f.type === "message" && f.data.n === 1);
    watching.send({ n: 2 });
    expect(await watching.next((f) => f.type === "error")).toMatchObject({ code: "read_only" });
    writer.send({ n: 3 });
    await writer.next((f) => f.type === "message" && f.data.n === 3);
    await watching.next((f) => f.type === "message" && f.data.n === 3);
    expect(writer.messages().map((f) => f.data.n)).toEqual([1, 3]);
    expect(watching.messages().map((f) => f.data.n)).toEqual([1, 3]);
  });

  test("LiveKit grants follow the role: owner admin, member publishes, viewer only subscribes", async () => {
    const room = await newRoom();
    const verifier = new TokenVerifier(livekit.apiKey, livekit.apiSecret);
    const grantsOf = async (userToken: string, body?: unknown) => {
      const issued = await api(b.url, "POST", `/rooms/${room}/token`, { token: userToken, body });
      expect(issued.status).toBe(200);
      return (await verifier.verify(issued.body.token)).video;
    };
    expect(await grantsOf(owner)).toMatchObject({ room, roomJoin: true, canPublish: true, canPublishData: true, roomAdmin: true });
    const memberGrants = await grantsOf(member);
    expect(memberGrants).toMatchObject({ room, canPublish: true, canSubscribe: true, canPublishData: true });
    expect(memberGrants?.roomAdmin).toBeFalsy();
    expect(await grantsOf(viewer)).toMatchObject({ room, canPublish: false, canSubscribe: true, canPublishData: false });
    // Asking for less is fine; asking for more than the role allows is refused, naming the grant.
    expect(await grantsOf(member, { canPublish: false })).toMatchObject({ canPublish: false, canSubscribe: true });
    const more = await api(b.url, "POST", `/rooms/${room}/token`, { token: viewer, body: { canPublish: true } });
    expect(more.status).toBe(403);
    expect(more.body.error).toEqual({ code: "insufficient_role", message: `canPublish is not granted to a viewer of room ${room}` });
  });

  test("only the owner manages members; the owner's role is fixed; a removed member is refused", async () => {
    const room = await newRoom();
    const path = (userId: string) => `/rooms/${room}/members/${encodeURIComponent(userId)}`;
    const byMember = await api(a.url, "PUT", path("mallory"), { token: member, body: { role: "member" } });
    expect(byMember.status).toBe(403);
    expect(byMember.body.error.code).toBe("insufficient_role");
    expect((await api(a.url, "PUT", path("mallory"), { token: stranger, body: { role: "member" } })).body.error.code).toBe(
      "room_access_denied",
    );
    for (const [method, body] of [
      ["PUT", { role: "viewer" }],
      ["DELETE", undefined],
    ] as const) {
      const own = await api(a.url, method, path("olivia"), { token: owner, body });
      expect(own.status).toBe(409);
      expect(own.body.error.code).toBe("cannot_change_owner");
    }
    const bad = await api(a.url, "PUT", path("max"), { token: owner, body: { role: "owner" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_body");
    expect((await api(a.url, "PUT", path("a\u0007b"), { token: owner, body: { role: "member" } })).body.error.code).toBe("invalid_user_id");

    // A user id with characters that need encoding in a path round-trips.
    await addMember(a.url, owner, room, "bob/with space:{x}");
    const members = await api(a.url, "GET", `/rooms/${room}/members`, { token: owner });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toContain("bob/with space:{x}");

    // Demoted to viewer on instance a: a join there can no longer send.
    await addMember(a.url, owner, room, "max", "viewer");
    const demoted = await clients.connect(a.url, room, member);
    demoted.send({ n: 1 });
    expect(await demoted.next((f) => f.type === "error")).toMatchObject({ code: "read_only" });

    expect((await api(a.url, "DELETE", path("max"), { token: owner })).status).toBe(204);
    expect(await api(a.url, "GET", `/rooms/${room}`, { token: member })).toEqual(denied(room));
    expect((await api(a.url, "DELETE", path("max"), { token: owner })).body.error.code).toBe("member_not_found");
  });
});

test("migration 2 makes the creator of every existing room its owner", async () => {
  const database = `access_migration_${Date.now()}`;
  const admin = new Pool({ connectionString: postgresUrl, max: 1 });
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(postgresUrl);
  url.pathname = `/${database}`;
  const pool = new Pool({ connectionString: url.toString(), max: 2 });
  try {
    const logger = createLogger("silent", "access-migration");
    await migrate(pool, logger, MIGRATIONS.slice(0, 1));
    await pool.query("INSERT INTO rooms (id, name, created_by) VALUES ('old-room', 'from before', 'olivia')");
    expect(await migrate(pool, logger)).toEqual([2]);
    const rows = await pool.query("SELECT room_id, user_id, role FROM room_members");
    expect(rows.rows).toEqual([{ room_id: "old-room", user_id: "olivia", role: "owner" }]);
  } finally {
    await pool.end();
    await admin.query(`DROP DATABASE ${database}`);
    await admin.end();
  }
});

test("membership is checked per join, not per message: 50 messages read room_members not once", async () => {
  const room = await newRoom();
  const client = await clients.connect(b.url, room, member);
  // PostgreSQL flushes a backend's table statistics at most once a second.
  await sleep(1500);
  const readsBefore = await membershipReads();
  for (let n = 0; n < 50; n++) client.send({ n });
  await client.count((f) => f.type === "message", 50);
  await sleep(1500);
  expect(await membershipReads()).toBe(readsBefore);
});

/** Scans of room_members so far (index and sequential), from PostgreSQL's statistics. */
async function membershipReads(): Promise<number> {
  const [row] = await sqlAt<{ reads: string }>(
    postgresUrl,
    "SELECT coalesce(idx_scan, 0) + coalesce(seq_scan, 0) AS reads FROM pg_stat_user_tables WHERE relname = 'room_members'",
  );
  return Number(row?.reads);
}
