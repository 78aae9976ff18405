/**
 * LiveKit tokens against stand-in deployments (livekit-server's health endpoint): tokens verify
 * with the SDK's TokenVerifier, rooms are pinned to one healthy deployment across instances and
 * re-pinned when it turns unhealthy, and the token cache (in-process + Valkey, single flight) never
 * serves a token of an unhealthy deployment.
 */
import { TokenVerifier } from "livekit-server-sdk";
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll, waitFor } from "../../harness/process";
import { redisCommand, startRedis, type RedisNode } from "../../harness/redis";
import { api, appConfig, createRoom, token, type Backends } from "./helpers";

let redis: RedisNode;
let lkA: LivekitStandIn;
let lkB: LivekitStandIn;
let backends: Backends;
let one: RunningApp;
let two: RunningApp;
let alice: string;
let bob: string;

const TOKEN_TTL_SECONDS = 600;

async function issue(target: RunningApp, room: string, userToken: string, body?: unknown): Promise<{ status: number; body: any }> {
  return api(target.url, "POST", `/rooms/${room}/token`, { token: userToken, body });
}

async function counter(
  target: RunningApp,
  metric: "tokenCache" | "tokensSigned" | "roomRepins",
  labels: Record<string, string> = {},
): Promise<number> {
  const values = (await target.metrics[metric].get()).values;
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

async function setHealthy(standIn: LivekitStandIn, healthy: boolean): Promise<void> {
  standIn.setHealthy(healthy);
  for (const target of [one, two]) {
    await waitFor(async () => target.readiness().dependencies.livekit.find((d) => d.name === standIn.name)?.healthy === healthy, {
      timeoutMs: 5000,
      what: `${target.instanceId} to see ${standIn.name} ${healthy ? "healthy" : "unhealthy"}`,
    });
  }
}

beforeAll(async () => {
  let postgres;
  [redis, postgres, lkA, lkB] = await Promise.all([
    startRedis(),
    startPostgres(),
    startLivekitStandIn("lk-a"),
    startLivekitStandIn("lk-b"),
  ]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [lkA, lkB] };
  const overrides = { LIVEKIT_TOKEN_TTL_SECONDS: String(TOKEN_TTL_SECONDS) };
  [one, two] = await Promise.all([startApp(appConfig(backends, "lk-one", overrides)), startApp(appConfig(backends, "lk-two", overrides))]);
  [alice, bob] = await Promise.all([token("alice", { name: "Alice" }), token("bob")]);
}, 60_000);

afterEach(async () => {
  await setHealthy(lkA, true);
  await setHealthy(lkB, true);
});

afterAll(async () => {
  await Promise.allSettled([one?.stop(), two?.stop()]);
  await stopAll();
});

test("a token verifies with the SDK's TokenVerifier and carries identity, name, room and grants", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  const response = await issue(one, room, alice, { canPublish: false });
  expect(response.status).toBe(200);
  // `datacenter` is the historical name of `deployment`, kept for older clients: both carry the same value.
  expect(response.body).toEqual({
    token: expect.any(String),
    url: lkA.url,
    deployment: "lk-a",
    datacenter: "lk-a",
    expiresAt: expect.any(String),
  });
  const claims = await new TokenVerifier(lkA.apiKey, lkA.apiSecret).verify(response.body.token);
  expect(claims.sub).toBe("alice");
  expect(claims.name).toBe("Alice");
  expect(claims.video).toMatchObject({ room, roomJoin: true, canPublish: false, canSubscribe: true, canPublishData: true });
  const expiresAt = new Date(response.body.expiresAt).getTime();
  expect(expiresAt).toBe((claims.exp as number) * 1000);
  expect(expiresAt - Date.now()).toBeGreaterThan((TOKEN_TTL_SECONDS - 10) * 1000);
  // Not valid for the other deployment.
  await expect(new TokenVerifier(lkB.apiKey, lkB.apiSecret).verify(response.body.token)).rejects.toThrow();
});

test("all participants of a room get the same deployment, whichever instance they ask", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  const answers = await Promise.all([issue(one, room, alice), issue(two, room, bob), issue(two, room, alice), issue(one, room, bob)]);
  expect(new Set(answers.map((a) => a.body.deployment))).toEqual(new Set(["lk-a"]));
  expect(await redisCommand(redis, ["GET", `room:{${room}}:livekit`])).toBe("lk-a");
});

test("when the pinned deployment turns unhealthy the room is re-pinned to the next healthy one, and stays there", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  expect((await issue(one, room, alice)).body.deployment).toBe("lk-a");
  const repinsBefore = (await counter(one, "roomRepins")) + (await counter(two, "roomRepins"));

  await setHealthy(lkA, false);
  const readiness = await api(one.metricsUrl, "GET", "/readyz");
  expect(readiness.status).toBe(200);
  expect(readiness.body.status).toBe("degraded");
  const after = await Promise.all([issue(one, room, alice), issue(two, room, bob)]);
  expect(after.map((a) => a.body.deployment)).toEqual(["lk-b", "lk-b"]);
  expect(after[0]?.body.url).toBe(lkB.url);
  await new TokenVerifier(lkB.apiKey, lkB.apiSecret).verify(after[0]?.body.token);
  expect(await redisCommand(redis, ["GET", `room:{${room}}:livekit`])).toBe("lk-b");
  // One compare-and-set moved the room, whichever instance got there first.
  expect((await counter(one, "roomRepins")) + (await counter(two, "roomRepins"))).toBe(repinsBefore + 1);

  await setHealthy(lkA, true);
  expect((await issue(two, room, alice)).body.deployment).toBe("lk-b");
});

test("an unreachable deployment counts as unhealthy", async () => {
  await lkA.stop();
  try {
    await waitFor(async () => one.readiness().dependencies.livekit[0]?.healthy === false, {
      timeoutMs: 5000,
      what: "lk-a to be seen unreachable",
    });
    const room = await createRoom(one.url, alice, "room", ["bob"]);
    expect((await issue(one, room, alice)).body.deployment).toBe("lk-b");
  } finally {
    await lkA.start();
  }
});

test("the token cache: in-process hit, Valkey hit on another instance, separate entries per grants", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  const first = await issue(one, room, alice);
  const memoryHitsBefore = await counter(one, "tokenCache", { result: "hit_memory" });
  const again = await issue(one, room, alice);
  expect(again.body).toEqual(first.body);
  expect(await counter(one, "tokenCache", { result: "hit_memory" })).toBe(memoryHitsBefore + 1);

  const redisHitsBefore = await counter(two, "tokenCache", { result: "hit_redis" });
  const elsewhere = await issue(two, room, alice);
  expect(elsewhere.body).toEqual(first.body);
  expect(await counter(two, "tokenCache", { result: "hit_redis" })).toBe(redisHitsBefore + 1);

  const viewer = await issue(one, room, alice, { canPublish: false });
  expect(viewer.body.token).not.toBe(first.body.token);
  const otherUser = await issue(one, room, bob);
  expect(otherUser.body.token).not.toBe(first.body.token);
});

test("a token cached in Valkey by an instance from before the deployment field is answered with both fields", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  const first = await issue(one, room, alice);
  const keys = (await redisCommand(redis, ["KEYS", `room:{${room}}:lktoken:*`])) as unknown as string[];
  expect(keys).toHaveLength(1);
  const key = keys[0] as string;
  const stored = JSON.parse((await redisCommand(redis, ["GET", key])) as string);
  delete stored.issued.deployment;
  await redisCommand(redis, ["SET", key, JSON.stringify(stored), "KEEPTTL"]);
  const elsewhere = await issue(two, room, alice);
  expect(elsewhere.body).toEqual(first.body);
  expect(elsewhere.body).toMatchObject({ deployment: "lk-a", datacenter: "lk-a" });
});

test("a cached token of a deployment that turned unhealthy is never served", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  const cached = await issue(one, room, alice);
  expect(cached.body.deployment).toBe("lk-a");
  await setHealthy(lkA, false);
  const fresh = await issue(one, room, alice);
  expect(fresh.body.deployment).toBe("lk-b");
  expect(fresh.body.token).not.toBe(cached.body.token);
  await new TokenVerifier(lkB.apiKey, lkB.apiSecret).verify(fresh.body.token);
});

test("concurrent misses for one key sign once", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  // Warm the room (existence and pin) so that only the token is missing.
  await issue(one, room, bob);
  const signedBefore = await counter(one, "tokensSigned");
  const answers = await Promise.all(Array.from({ length: 20 }, () => issue(one, room, alice)));
  expect(new Set(answers.map((a) => a.body.token)).size).toBe(1);
  expect(await counter(one, "tokensSigned")).toBe(signedBefore + 1);
});

test("no healthy deployment: 503 livekit_unavailable, readiness degraded (rooms and realtime do not need LiveKit)", async () => {
  const room = await createRoom(one.url, alice, "room", ["bob"]);
  await setHealthy(lkA, false);
  await setHealthy(lkB, false);
  const refused = await issue(one, room, alice);
  expect(refused).toEqual({ status: 503, body: { error: { code: "livekit_unavailable", message: expect.any(String) } } });
  const readiness = await api(one.metricsUrl, "GET", "/readyz");
  expect(readiness.status).toBe(200);
  expect(readiness.body.status).toBe("degraded");
  expect(readiness.body.dependencies.livekit).toEqual([
    expect.objectContaining({ name: "lk-a", healthy: false }),
    expect.objectContaining({ name: "lk-b", healthy: false }),
  ]);
});
