/**
 * Valkey failover, against real redis-server processes: a replica is promoted while the app's open
 * connections stay on the demoted node (READONLY on write, or ROLE), an endpoint outage with
 * messages published meanwhile (gap healed from history), and a failover that lost the newest
 * writes (seq keeps increasing). The real-time path fails fast while Valkey is away.
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres, type PgNode } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";
import { demoteTo, promote, startRedis, startRedisPair, type RedisNode } from "../../harness/redis";
import { api, appConfig, createRoom, TestClient, token } from "./helpers";
import { startSwitchableProxy, type SwitchableProxy } from "../../harness/tcp-proxy";

let postgres: PgNode;
let livekit: LivekitStandIn;
let alice: string;
let bob: string;
const apps: RunningApp[] = [];
const clients: TestClient[] = [];

async function app(redisUrl: string, id: string, overrides: Record<string, string> = {}): Promise<RunningApp> {
  const started = await startApp(
    appConfig({ redisUrl, databaseUrl: postgres.url, livekit: [livekit] }, id, { WS_MAX_MESSAGES_PER_SECOND: "10000", ...overrides }),
  );
  apps.push(started);
  return started;
}

async function connect(target: RunningApp, room: string, userToken: string): Promise<TestClient> {
  const client = await TestClient.connect(target.url, { room, token: userToken });
  clients.push(client);
  return client;
}

const recycles = async (target: RunningApp): Promise<number> => (await target.metrics.valkeyRecycles.get()).values[0]?.value ?? 0;

async function waitHealthy(target: RunningApp): Promise<void> {
  await waitFor(async () => target.readiness().dependencies.redis.healthy, {
    timeoutMs: 10_000,
    what: `${target.instanceId} to see a healthy Valkey primary`,
  });
}

beforeAll(async () => {
  [postgres, livekit] = await Promise.all([startPostgres(), startLivekitStandIn("lk")]);
  [alice, bob] = await Promise.all([token("alice"), token("bob")]);
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.allSettled(apps.splice(0).map((running) => running.stop()));
});

afterAll(async () => {
  await stopAll();
});

test("a promoted replica: READONLY on the next write recycles the connections, the write is retried, and nothing is lost", async () => {
  const pair = await startRedisPair();
  const proxy = await startSwitchableProxy(pair.primary);
  // Role checks and heartbeats (which write) far apart: the client's write must trigger the recycle here.
  const quiet = { REDIS_ROLE_CHECK_INTERVAL_MS: "60000", HEARTBEAT_INTERVAL_MS: "60000", PRESENCE_TTL_SECONDS: "120" };
  const a = await app(proxy.url, "ro-a", quiet);
  const b = await app(proxy.url, "ro-b", quiet);
  const room = await createRoom(a.url, alice, "room", ["bob"]);
  const onA = await connect(a, room, alice);
  const onB = await connect(b, room, bob);
  onA.send("before");
  await onB.next((f) => f.type === "message" && f.data === "before");

  await failover(pair.replica, pair.primary, proxy);
  expect(a.readiness().dependencies.redis.recycles).toBe(0);

  onA.send("after, from a");
  await onA.next((f) => f.type === "message" && f.data === "after, from a");
  expect(await recycles(a)).toBe(1);
  onB.send("after, from b");
  await onB.next((f) => f.type === "message" && f.data === "after, from b");
  expect(await recycles(b)).toBe(1);

  for (const client of [onA, onB]) {
    const messages = await client.count((f) => f.type === "message", 3);
    expect(messages.map((f) => [f.seq, f.data])).toEqual([
      [1, "before"],
      [2, "after, from a"],
      [3, "after, from b"],
    ]);
    expect(client.frames.filter((f) => f.type === "error")).toEqual([]);
  }
  expect(a.readiness().dependencies.redis).toMatchObject({ healthy: true, role: "master" });
});

test("a promoted replica is also detected without any write, by the periodic ROLE check", async () => {
  const pair = await startRedisPair();
  const proxy = await startSwitchableProxy(pair.primary);
  const idle = await app(proxy.url, "role-idle", { REDIS_ROLE_CHECK_INTERVAL_MS: "100" });
  const room = await createRoom(idle.url, alice, "room", ["bob"]);
  const member = await connect(idle, room, alice);
  await failover(pair.replica, pair.primary, proxy);
  await waitFor(async () => (await recycles(idle)) >= 1, { timeoutMs: 5000, what: "the ROLE check to recycle the connections" });
  await waitHealthy(idle);
  // The resubscribed channel works: a message published on the new primary arrives.
  const other = await app(pair.replica.url, "role-other");
  const sender = await connect(other, room, bob);
  sender.send("on the new primary");
  await member.next((f) => f.type === "message" && f.data === "on the new primary");
});

test("a silent partition (connections open, nothing answers): the ROLE watchdog recycles the connections", async () => {
  const redis = await startRedis();
  const proxy = await startSwitchableProxy(redis);
  const target = await app(proxy.url, "silent", { REDIS_ROLE_CHECK_INTERVAL_MS: "100", REDIS_CONNECT_TIMEOUT_MS: "300" });
  const room = await createRoom(target.url, alice, "room", ["bob"]);
  const member = await connect(target, room, alice);
  proxy.freeze();
  await waitFor(async () => (await recycles(target)) >= 1, { timeoutMs: 5000, what: "the watchdog to recycle the silent connections" });
  await waitHealthy(target);
  member.send("after the partition");
  await member.next((f) => f.type === "message" && f.data === "after the partition", 5000);
});

test("an endpoint outage: writes fail fast, readiness says unhealthy, and messages published meanwhile are healed from history", async () => {
  const redis = await startRedis();
  const proxy = await startSwitchableProxy(redis);
  const direct = await app(redis.url, "outage-direct");
  const behind = await app(proxy.url, "outage-behind");
  const room = await createRoom(direct.url, alice, "room", ["bob"]);
  const sender = await connect(direct, room, alice);
  const receiver = await connect(behind, room, bob);
  sender.send(1);
  await receiver.next((f) => f.type === "message" && f.data === 1);

  proxy.cut(true);
  await waitFor(async () => behind.readiness().status === "unhealthy", { timeoutMs: 5000, what: "readiness to turn unhealthy" });
  expect((await api(behind.url, "GET", "/readyz")).status).toBe(503);
  const started = Date.now();
  receiver.send("during the outage");
  const refused = await receiver.next((f) => f.type === "error");
  expect(refused.code).toBe("unavailable");
  expect(Date.now() - started).toBeLessThan(2000);

  for (let i = 2; i <= 6; i++) sender.send(i);
  await sender.count((f) => f.type === "message", 6);
  proxy.release();

  const received = await receiver.count((f) => f.type === "message", 6, 10_000);
  expect(received.map((f) => [f.seq, f.data])).toEqual([1, 2, 3, 4, 5, 6].map((n) => [n, n]));
  expect((await behind.metrics.gapHeals.get()).values[0]?.value).toBeGreaterThanOrEqual(5);
  await waitHealthy(behind);
  receiver.send(7);
  await sender.next((f) => f.type === "message" && f.data === 7);
});

test("a failover that lost the newest writes: seq keeps increasing for clients that saw them", async () => {
  const old = await startRedis();
  const proxy = await startSwitchableProxy(old);
  const a = await app(proxy.url, "lost-a", { REDIS_ROLE_CHECK_INTERVAL_MS: "100" });
  const room = await createRoom(a.url, alice, "room", ["bob"]);
  const member = await connect(a, room, alice);
  for (let i = 1; i <= 5; i++) member.send(i);
  await member.count((f) => f.type === "message", 5);

  // The new primary has none of it (an asynchronous replica that was behind).
  const fresh = await startRedis();
  proxy.switchTo(fresh);
  await demoteTo(old, fresh);
  await waitFor(async () => (await recycles(a)) >= 1, { timeoutMs: 5000, what: "the recycle" });
  await waitHealthy(a);
  // The seq floor is raised right after resubscribing; give it a moment, then write.
  await waitFor(
    async () => {
      const probe = await TestClient.connect(a.url, { room, token: bob });
      const seq = probe.welcome.seq as number;
      await probe.close();
      return seq >= 5;
    },
    { timeoutMs: 5000, what: "the seq floor on the new primary" },
  );
  member.send("after");
  const after = await member.next((f) => f.type === "message" && f.data === "after");
  expect(after.seq).toBe(6);
});

/** Promotes `next`, demotes `previous` to its replica, and points new connections at `next`. */
async function failover(next: RedisNode, previous: RedisNode, proxy: SwitchableProxy): Promise<void> {
  await promote(next);
  proxy.switchTo(next);
  await demoteTo(previous, next);
}
