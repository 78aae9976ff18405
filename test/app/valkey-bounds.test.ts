/**
 * What one user can put into Valkey is bounded (issue 24, item 3): a per-user quota of messages and
 * bytes per window over all their connections, and a cap on the bytes of each room's history; and when
 * Valkey refuses writes (a real redis-server at a small maxmemory with noeviction) /readyz says so.
 * Against real Valkey and PostgreSQL.
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { roomLogKeys } from "../../app/src/realtime/room-log";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";
import { redisCommand, redisInfo, startRedis, type RedisNode } from "../../harness/redis";
import { api, appConfig, createRoom, OpenClients, token, type Backends } from "./helpers";

let redis: RedisNode;
let postgresUrl: string;
let livekit: LivekitStandIn;
let backends: Backends;
let app: RunningApp;
const clients = new OpenClients();

beforeAll(async () => {
  const [r, postgres, lk] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  [redis, postgresUrl, livekit] = [r, postgres.url, lk];
  backends = { redisUrl: redis.url, databaseUrl: postgresUrl, livekit: [livekit] };
  app = await startApp(
    appConfig(backends, "bounds", {
      QUOTA_WINDOW_SECONDS: "60",
      QUOTA_USER_MESSAGES: "5",
      QUOTA_USER_BYTES: "4096",
      HISTORY_MAX_ROOM_BYTES: "131072",
      WS_MAX_FRAME_BYTES: "65536",
    }),
  );
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await app?.stop();
  await stopAll();
});

describe("the per-user quota", () => {
  test("counts messages over all of a user's connections; over it: quota_exceeded naming QUOTA_USER_MESSAGES, nothing stored", async () => {
    const user = await token("quota-messages");
    const room = await createRoom(app.url, user, "room", ["someone-else"]);
    const [first, second] = [await clients.connect(app.url, room, user), await clients.connect(app.url, room, user)];
    for (let i = 0; i < 4; i++) first.send({ i });
    for (let i = 4; i < 7; i++) second.send({ i });
    const refused = await second.next((f) => f.type === "error");
    expect(refused).toMatchObject({
      code: "quota_exceeded",
      message: expect.stringMatching(/5 messages per 60 s per user \(QUOTA_USER_MESSAGES\)/),
    });
    expect(refused.message).toMatch(/retry in \d+ s/);
    await first.count((f) => f.type === "message", 5);
    expect(Number(await redisCommand(redis, ["GET", roomLogKeys(room).seq]))).toBe(5);
    // Another user is not affected.
    const other = await clients.connect(app.url, room, await token("someone-else"));
    other.send("hello");
    expect(await other.next((f) => f.type === "message" && f.data === "hello")).toMatchObject({ seq: 6 });
  });

  test("counts bytes: over QUOTA_USER_BYTES the message is refused with quota_exceeded naming it", async () => {
    const user = await token("quota-bytes");
    const room = await createRoom(app.url, user);
    const client = await clients.connect(app.url, room, user);
    const payload = "b".repeat(1500);
    for (let i = 0; i < 3; i++) client.send({ i, payload });
    const refused = await client.next((f) => f.type === "error");
    expect(refused).toMatchObject({
      code: "quota_exceeded",
      message: expect.stringMatching(/4096 bytes per 60 s per user \(QUOTA_USER_BYTES\)/),
    });
    expect((await client.count((f) => f.type === "message", 2)).map((f) => f.data.i)).toEqual([0, 1]);
  });
});

describe("the history of one room", () => {
  test("holds at most HISTORY_MAX_ROOM_BYTES of frames (oldest trimmed first), and its byte count stays exact", async () => {
    const fillers = Array.from({ length: 60 }, (_, i) => `filler-${i}`);
    const room = await createRoom(app.url, await token("filler"), "room", fillers);
    // Many users (each within their own quota) fill one room: the room's own bound is what holds.
    const payload = "h".repeat(3000);
    for (let i = 0; i < 60; i++) {
      const client = await clients.connect(app.url, room, await token(`filler-${i}`));
      client.send({ i, payload });
      await client.next((f) => f.type === "message" && f.data.i === i);
    }
    const keys = roomLogKeys(room);
    const entries = (await redisCommand(redis, ["ZRANGE", keys.history, "0", "-1"])) as string[];
    const held = entries.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
    expect(held).toBeLessThanOrEqual(131072);
    expect(held).toBeGreaterThan(131072 - 4000); // trimmed to the bound, not emptied
    expect(Number(await redisCommand(redis, ["GET", keys.historyBytes]))).toBe(held);
    // The newest are kept: the last entry is message 59.
    expect(entries[entries.length - 1]).toContain('"i":59');
  }, 60_000);
});

describe("when Valkey refuses writes (maxmemory, noeviction)", () => {
  let full: RedisNode;
  let onFull: RunningApp;

  beforeAll(async () => {
    full = await startRedis();
    await redisCommand(full, ["CONFIG", "SET", "maxmemory-policy", "noeviction"]);
    await redisCommand(full, ["CONFIG", "SET", "maxmemory", String(8 * 1024 * 1024)]);
    onFull = await startApp(appConfig({ ...backends, redisUrl: full.url }, "bounds-full"));
  });

  afterAll(async () => {
    await onFull?.stop();
  });

  test("/readyz answers 503 naming maxmemory, messages are refused as unavailable, and both recover when memory is back", async () => {
    const user = await token("oom-user");
    const room = await createRoom(onFull.url, user);
    const client = await clients.connect(onFull.url, room, user);
    expect((await api(onFull.url, "GET", "/readyz")).status).toBe(200);

    // Fill Valkey to its maxmemory from outside, as other rooms would.
    const chunk = "x".repeat(64 * 1024);
    for (let i = 0; ; i++) {
      try {
        await redisCommand(full, ["SET", `filler:${i}`, chunk]);
      } catch (error) {
        expect(String(error)).toMatch(/OOM/);
        break;
      }
    }
    const used = Number((await redisInfo(full, "memory")).used_memory);
    expect(used).toBeGreaterThan(7 * 1024 * 1024);
    // Keep it full: closing connections frees a few KB of buffers, which would let small writes through again.
    await redisCommand(full, ["CONFIG", "SET", "maxmemory", String(used - 512 * 1024)]);

    await waitFor(async () => (await api(onFull.url, "GET", "/readyz")).status === 503, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: "/readyz to answer 503 while Valkey refuses writes",
    });
    // The details, as the detailed readiness reports them.
    const readiness = onFull.readiness();
    expect(readiness).toMatchObject({ status: "unhealthy", dependencies: { redis: { healthy: false, writable: false } } });
    expect(readiness.dependencies.redis.error).toMatch(/maxmemory/);
    expect((await onFull.metrics.valkeyWritesRefused.get()).values[0]?.value).toBe(1);

    client.send("while full");
    expect(await client.next((f) => f.type === "error")).toMatchObject({ code: "unavailable" });

    await redisCommand(full, ["CONFIG", "SET", "maxmemory", "0"]);
    await waitFor(async () => (await api(onFull.url, "GET", "/readyz")).status === 200, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: "/readyz to answer 200 once Valkey accepts writes again",
    });
    expect((await onFull.metrics.valkeyWritesRefused.get()).values[0]?.value).toBe(0);
    client.send("after");
    expect(await client.next((f) => f.type === "message" && f.data === "after")).toMatchObject({ seq: 1 });
  }, 60_000);
});
