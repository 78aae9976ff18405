/**
 * Browser clients on other origins (CORS_ALLOWED_ORIGINS) and the per-user REST limits, against real
 * Valkey and PostgreSQL: preflights, CORS headers on actual requests, the Origin check of WebSocket
 * upgrades, and 429 + Retry-After counted across two instances.
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, OpenClients, refusedUpgrade, TestClient, token, type Backends } from "./helpers";

const ALLOWED = "https://app.gomeet.example";
const ALSO_ALLOWED = "http://127.0.0.1:5173";
const OTHER = "https://evil.example";

let backends: Backends;
let a: RunningApp;
let b: RunningApp;
let alice: string;
let room: string;
const clients = new OpenClients();

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  const env = {
    CORS_ALLOWED_ORIGINS: `${ALLOWED}, ${ALSO_ALLOWED}`,
    RATE_LIMIT_WINDOW_SECONDS: "60",
    RATE_LIMIT_ROOM_CREATES: "4",
    RATE_LIMIT_LIVEKIT_GRANTS: "3",
  };
  [a, b] = await Promise.all([startApp(appConfig(backends, "cors-a", env)), startApp(appConfig(backends, "cors-b", env))]);
  alice = await token("alice");
  room = await createRoom(a.url, alice, "room", ["dave-tokens"]);
}, 60_000);

afterEach(() => clients.closeAll());

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await stopAll();
});

async function preflight(origin: string, route: string, method = "POST"): Promise<Response> {
  return fetch(`${a.url}${route}`, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": "authorization, content-type" },
  });
}

const corsHeaders = (response: Response) =>
  Object.fromEntries([...response.headers].filter(([name]) => name.startsWith("access-control-")));

describe("CORS", () => {
  test("a preflight from an allowed origin gets the route's methods, Authorization and Content-Type, and a max-age", async () => {
    for (const origin of [ALLOWED, ALSO_ALLOWED]) {
      const response = await preflight(origin, "/rooms");
      expect(response.status).toBe(204);
      expect(corsHeaders(response)).toEqual({
        "access-control-allow-origin": origin,
        "access-control-allow-methods": "POST, OPTIONS",
        "access-control-allow-headers": "Authorization, Content-Type",
        "access-control-max-age": "600",
      });
      expect(response.headers.get("vary")).toContain("Origin");
    }
    const token = await preflight(ALLOWED, `/rooms/${room}/token`);
    expect(token.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
    const read = await preflight(ALLOWED, `/rooms/${room}`, "GET");
    expect(read.headers.get("access-control-allow-methods")).toBe("GET, OPTIONS");
  });

  test("a preflight from another origin is 403 origin_not_allowed with no CORS headers", async () => {
    for (const origin of [OTHER, "https://app.gomeet.example.evil.example", "http://app.gomeet.example", "null"]) {
      const response = await preflight(origin, "/rooms");
      expect([origin, response.status]).toEqual([origin, 403]);
      expect(corsHeaders(response)).toEqual({});
      expect(((await response.json()) as any).error.code).toBe("origin_not_allowed");
    }
  });

  test("actual requests: the allowed origin is echoed (and Retry-After exposed); another origin gets no CORS headers", async () => {
    const allowed = await fetch(`${a.url}/rooms/${room}`, { headers: { origin: ALLOWED, authorization: `Bearer ${alice}` } });
    expect(allowed.status).toBe(200);
    expect(corsHeaders(allowed)).toEqual({ "access-control-allow-origin": ALLOWED, "access-control-expose-headers": "Retry-After" });
    expect(allowed.headers.get("vary")).toBe("Origin");
    const other = await fetch(`${a.url}/rooms/${room}`, { headers: { origin: OTHER, authorization: `Bearer ${alice}` } });
    expect(other.status).toBe(200);
    expect(corsHeaders(other)).toEqual({});
    const none = await fetch(`${a.url}/rooms/${room}`, { headers: { authorization: `Bearer ${alice}` } });
    expect(corsHeaders(none)).toEqual({});
    // Errors carry the headers too, so a browser client can read why it failed.
    const unauthorized = await fetch(`${a.url}/rooms/${room}`, { headers: { origin: ALLOWED } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get("access-control-allow-origin")).toBe(ALLOWED);
    // ...including a route that does not exist or a method a route does not take.
    const unknown = await fetch(`${a.url}/nope`, { headers: { origin: ALLOWED } });
    expect(unknown.status).toBe(404);
    expect(corsHeaders(unknown)).toEqual({ "access-control-allow-origin": ALLOWED, "access-control-expose-headers": "Retry-After" });
    const wrongMethod = await fetch(`${a.url}/rooms/${room}`, { method: "DELETE", headers: { origin: ALLOWED } });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("access-control-allow-origin")).toBe(ALLOWED);
  });

  test("OPTIONS without a preflight's headers is not a preflight (405), and an unknown route stays 404", async () => {
    expect((await api(a.url, "OPTIONS", "/rooms")).status).toBe(405);
    expect((await preflight(ALLOWED, "/nope")).status).toBe(404);
  });
});

describe("WebSocket Origin", () => {
  test("an upgrade from an allowed origin, or with no Origin (a native client), is accepted", async () => {
    const browser = TestClient.open(a.url, { room, token: alice }, { origin: ALLOWED });
    await browser.next((f) => f.type === "welcome");
    await browser.close();
    const native = await clients.connect(a.url, room, alice);
    expect(native.welcome.room).toBe(room);
  });

  test("an upgrade from another origin is 403 origin_not_allowed, before the token is even looked at", async () => {
    for (const origin of [OTHER, "http://127.0.0.1:5174"]) {
      const refused = await refusedUpgrade(a.url, { room, access_token: alice }, "/ws", { origin });
      expect(refused).toEqual({ status: 403, body: { error: { code: "origin_not_allowed", message: expect.stringContaining(origin) } } });
    }
    const noToken = await refusedUpgrade(a.url, { room }, "/ws", { origin: OTHER });
    expect(noToken.status).toBe(403);
  });
});

describe("per-user rate limits, shared by every instance", () => {
  test("POST /rooms: a user's 5th room in the window is 429 with Retry-After, on either instance; other users unaffected", async () => {
    const bob = await token("bob-rooms");
    for (const app of [a, b, a, b]) expect((await api(app.url, "POST", "/rooms", { token: bob, body: { name: "r" } })).status).toBe(201);
    for (const app of [a, b]) {
      const response = await fetch(`${app.url}/rooms`, {
        method: "POST",
        headers: { authorization: `Bearer ${bob}`, "content-type": "application/json", origin: ALLOWED },
        body: JSON.stringify({ name: "r" }),
      });
      expect(response.status).toBe(429);
      const retryAfter = Number(response.headers.get("retry-after"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(response.headers.get("access-control-expose-headers")).toBe("Retry-After");
      expect(((await response.json()) as any).error).toEqual({
        code: "rate_limited",
        message: expect.stringContaining("at most 4 per 60 s"),
      });
    }
    const carol = await token("carol-rooms");
    expect((await api(b.url, "POST", "/rooms", { token: carol, body: { name: "r" } })).status).toBe(201);
  });

  test("POST /rooms/:id/token: the 4th token of a user in the window is 429 with Retry-After", async () => {
    const dave = await token("dave-tokens");
    for (const app of [a, b, a]) expect((await api(app.url, "POST", `/rooms/${room}/token`, { token: dave })).status).toBe(200);
    const limited = await fetch(`${b.url}/rooms/${room}/token`, { method: "POST", headers: { authorization: `Bearer ${dave}` } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as any).error.code).toBe("rate_limited");
    // Room creation has its own budget.
    expect((await api(a.url, "POST", "/rooms", { token: dave, body: { name: "r" } })).status).toBe(201);
  });

  test("while Valkey does not answer, the limit is not checked: room creation goes through at once (fail open), counted", async () => {
    const frozen = await startRedis();
    const c = await startApp(
      appConfig({ ...backends, redisUrl: frozen.url }, "cors-c", {
        RATE_LIMIT_ROOM_CREATES: "1",
        // A slow watchdog, as in production: without the check's own timeout, POST /rooms would wait for it.
        REDIS_ROLE_CHECK_INTERVAL_MS: "5000",
        REDIS_CONNECT_TIMEOUT_MS: "5000",
      }),
    );
    const erin = await token("erin-frozen");
    try {
      expect((await api(c.url, "POST", "/rooms", { token: erin, body: { name: "r" } })).status).toBe(201);
      process.kill(frozen.process.pid, "SIGSTOP");
      const started = Date.now();
      const created = await api(c.url, "POST", "/rooms", { token: erin, body: { name: "while Valkey hangs" } });
      const tookMs = Date.now() - started;
      expect(created.status).toBe(201);
      expect(tookMs).toBeLessThan(2000); // the check gives up after CHECK_TIMEOUT_MS (250 ms)
      const text = (await api(c.metricsUrl, "GET", "/metrics")).body as string;
      expect(text).toMatch(/gomeet_rate_limit_checks_total\{[^}]*action="room_create"[^}]*result="unavailable"[^}]*\} 1/);
    } finally {
      process.kill(frozen.process.pid, "SIGCONT");
      await c.stop();
    }
  });

  test("the counts are visible in the metrics", async () => {
    const text = (await api(a.metricsUrl, "GET", "/metrics")).body as string;
    expect(text).toMatch(/gomeet_rate_limit_checks_total\{[^}]*action="room_create"[^}]*result="limited"[^}]*\} [1-9]/);
  });
});
