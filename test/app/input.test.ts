/**
 * Every auth failure and every class of bad input, over HTTP and WebSocket: each gets its specific
 * status / error code / close code, and leaves state untouched.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Client } from "pg";
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { onStopAll, stopAll, waitFor } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, refusedUpgrade, sleep, TestClient, token, type Backends } from "./helpers";

let backends: Backends;
let app: RunningApp;
let alice: string;
let room: string;
const clients: TestClient[] = [];

async function connect(userToken: string, target = app.url): Promise<TestClient> {
  const client = await TestClient.connect(target, { room, token: userToken });
  clients.push(client);
  return client;
}

async function roomCount(): Promise<number> {
  const client = new Client({ connectionString: backends.databaseUrl });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM rooms")).rows[0]?.n);
  } finally {
    await client.end();
  }
}

/** The room's seq as a new connection sees it. */
async function roomSeq(): Promise<number> {
  const probe = await connect(alice);
  const seq = probe.welcome.seq as number;
  await probe.close();
  return seq;
}

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  app = await startApp(
    appConfig(backends, "input", { WS_MAX_FRAME_BYTES: "65536", WS_MAX_MESSAGES_PER_SECOND: "20", HTTP_MAX_BODY_BYTES: "1024" }),
  );
  alice = await token("alice", { name: "Alice" });
  room = await createRoom(app.url, alice, "room", ["jay"]);
}, 60_000);

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await app?.stop();
  await stopAll();
});

describe("authentication failures answer 401 with a JSON error", () => {
  const cases: Array<[string, () => Promise<string | undefined>, string]> = [
    ["no token", async () => undefined, "missing_token"],
    ["a token that is not a JWT", async () => "not-a-jwt", "invalid_token"],
    [
      "a token signed with another secret (forged)",
      () => token("mallory", { secret: "another-secret-that-is-at-least-32-chars!!" }),
      "invalid_token",
    ],
    ["an expired token", () => token("alice", { expiresInSeconds: -60 }), "token_expired"],
    ["a token with another algorithm (HS512)", () => token("alice", { alg: "HS512" }), "invalid_token"],
    [
      "a token without sub",
      () =>
        new SignJWT({ name: "nobody" })
          .setProtectedHeader({ alg: "HS256" })
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode("test-secret-that-is-at-least-32-characters-long")),
      "invalid_token",
    ],
    [
      "an unsecured token (alg none)",
      async () => `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from('{"sub":"alice"}').toString("base64url")}.`,
      "invalid_token",
    ],
  ];

  test.each(cases)("HTTP: %s", async (_label, make, code) => {
    const bad = await make();
    const created = await api(app.url, "POST", "/rooms", { token: bad, body: { name: "x" } });
    expect(created).toEqual({ status: 401, body: { error: { code, message: expect.any(String) } } });
    const read = await api(app.url, "GET", `/rooms/${room}`, { token: bad });
    expect(read.status).toBe(401);
    expect(read.body.error.code).toBe(code);
  });

  test.each(cases)("WebSocket: %s", async (_label, make, code) => {
    const bad = await make();
    const refused = await refusedUpgrade(app.url, bad === undefined ? { room } : { room, access_token: bad });
    expect(refused).toEqual({ status: 401, body: { error: { code, message: expect.any(String) } } });
  });

  test("HTTP: a non-Bearer Authorization header counts as no token", async () => {
    const response = await api(app.url, "GET", `/rooms/${room}`, {
      headers: { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` },
    });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("missing_token");
  });

  test("health and readiness need no token; the public port says no more than the load balancer needs", async () => {
    expect((await api(app.url, "GET", "/healthz")).body).toEqual({ status: "ok", instance: "input" });
    // Status only: no host names, no dependency errors, through the load balancer.
    expect(await api(app.url, "GET", "/readyz")).toEqual({ status: 200, body: { status: "healthy", draining: false } });
    // /metrics is not served on the public port at all.
    expect((await api(app.url, "GET", "/metrics")).body.error.code).toBe("not_found");
  });

  test("the metrics port serves /metrics and the detailed /readyz, without a token", async () => {
    expect(app.metricsPort).not.toBe(app.port);
    const readyz = await api(app.metricsUrl, "GET", "/readyz");
    expect(readyz.status).toBe(200);
    expect(readyz.body).toMatchObject({ status: "healthy", instance: "input", dependencies: { redis: { healthy: true } } });
    expect((await api(app.metricsUrl, "POST", "/rooms", { token: alice, body: { name: "x" } })).status).toBe(404);
    const metrics = (await api(app.metricsUrl, "GET", "/metrics")).body as string;
    expect(metrics).toContain("gomeet_ws_connections");
    // What /readyz answers, as the alert rules read it (gomeet_ready, gomeet_readiness_status).
    expect(metrics).toMatch(/^gomeet_ready\{instance="input"\} 1$/m);
    expect(metrics).toMatch(/^gomeet_readiness_status\{status="healthy",instance="input"\} 1$/m);
    expect(metrics).toMatch(/^gomeet_readiness_status\{status="unhealthy",instance="input"\} 0$/m);
  });
});

describe("JWKS mode", () => {
  test("tokens signed by a key of the JWKS are accepted, others are not", async () => {
    const { publicKey, privateKey } = await generateKeyPair("ES256");
    const other = await generateKeyPair("ES256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const jwks = http.createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
    onStopAll(() => new Promise((resolve) => jwks.close(() => resolve())));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    const withJwks = await startApp(appConfig(backends, "input-jwks", { AUTH_JWT_SECRET: "", AUTH_JWKS_URL: jwksUrl }));
    try {
      const sign = (key: Parameters<SignJWT["sign"]>[0]) =>
        new SignJWT({ name: "Jay" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setSubject("jay").setExpirationTime("5m").sign(key);
      const good = await api(withJwks.url, "GET", `/rooms/${room}`, { token: await sign(privateKey) });
      expect(good.status).toBe(200);
      const forged = await api(withJwks.url, "GET", `/rooms/${room}`, { token: await sign(other.privateKey) });
      expect(forged.status).toBe(401);
      expect(forged.body.error.code).toBe("invalid_token");
      // HS256 tokens are not accepted in JWKS mode.
      expect((await api(withJwks.url, "GET", `/rooms/${room}`, { token: alice })).status).toBe(401);
    } finally {
      await withJwks.stop();
    }
  });
});

describe("bad HTTP input", () => {
  test.each([
    ["invalid JSON", 400, "invalid_json", { rawBody: "{nope", headers: { "content-type": "application/json" } }],
    [
      "a body that is not JSON",
      415,
      "unsupported_media_type",
      { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } },
    ],
    ["no name", 400, "invalid_body", { body: {} }],
    ["an empty name", 400, "invalid_body", { body: { name: "   " } }],
    ["a name that is too long", 400, "invalid_body", { body: { name: "x".repeat(101) } }],
    ["a name that is not a string", 400, "invalid_body", { body: { name: 42 } }],
    ["a body over HTTP_MAX_BODY_BYTES", 413, "body_too_large", { body: { name: "x", padding: "y".repeat(2000) } }],
    ["a name with a NUL character (PostgreSQL text refuses it)", 400, "invalid_body", { body: { name: "a\u0000b" } }],
    ["a name with control characters", 400, "invalid_body", { body: { name: "a\u001bb" } }],
  ])("POST /rooms with %s → %i %s, and no room is created", async (_label, status, code, request) => {
    const before = await roomCount();
    const response = await api(app.url, "POST", "/rooms", { token: alice, ...(request as object) });
    expect(response.status).toBe(status);
    expect(response.body.error.code).toBe(code);
    expect(await roomCount()).toBe(before);
  });

  test("an oversized body is read to its end before the 413, so a proxy still writing it is not cut off", async () => {
    // nginx turns a connection closed under its body write into a 502 and counts it against the instance.
    const { port } = new URL(app.url);
    const chunk = Buffer.alloc(16 * 1024, "y");
    const chunks = 16; // 256 KiB, far over the limit, under the 1 MiB the instance reads away
    const outcome = await new Promise<{ status?: number; error?: string }>((resolve) => {
      let status: number | undefined;
      let error: string | undefined;
      const req = http.request(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/rooms",
          headers: {
            authorization: `Bearer ${alice}`,
            "content-type": "application/json",
            "content-length": chunk.length * chunks,
            connection: "close",
          },
        }, // as nginx talks to upstreams
        (res) => {
          status = res.statusCode;
          res.resume();
        },
      );
      req.on("error", (e) => (error = e.message));
      req.on("close", () => resolve({ ...(status !== undefined ? { status } : {}), ...(error !== undefined ? { error } : {}) }));
      void (async () => {
        for (let i = 0; i < chunks && !req.destroyed; i++) {
          if (!req.write(chunk)) await new Promise((r) => req.once("drain", r));
          await sleep(5);
        }
        req.end();
      })();
    });
    expect(outcome).toEqual({ status: 413 });
  });

  test("room ids are validated before anything else; unknown rooms look like rooms one is not a member of (403)", async () => {
    for (const bad of ["bad$id", "a".repeat(65), "dots.are.not.allowed", "%00"]) {
      const response = await api(app.url, "GET", `/rooms/${encodeURIComponent(bad)}`, { token: alice });
      expect([bad, response.status, response.body.error.code]).toEqual([bad, 400, "invalid_room_id"]);
    }
    const missing = await api(app.url, "GET", "/rooms/does-not-exist", { token: alice });
    expect(missing).toEqual({ status: 403, body: { error: { code: "room_access_denied", message: expect.any(String) } } });
    expect((await api(app.url, "GET", "/rooms/does-not-exist/participants", { token: alice })).status).toBe(403);
    expect((await api(app.url, "POST", "/rooms/does-not-exist/token", { token: alice })).status).toBe(403);
  });

  test("token grants must be booleans", async () => {
    const response = await api(app.url, "POST", `/rooms/${room}/token`, { token: alice, body: { canPublish: "yes" } });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe("invalid_body");
  });

  test("unknown routes are 404, wrong methods 405", async () => {
    expect((await api(app.url, "GET", "/nope")).body.error.code).toBe("not_found");
    const wrongMethod = await api(app.url, "DELETE", `/rooms/${room}`, { token: alice });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.body.error.code).toBe("method_not_allowed");
  });
});

describe("bad WebSocket input", () => {
  test.each<[string, number, string, () => Record<string, string>]>([
    ["an invalid room id", 400, "invalid_room_id", () => ({ room: "bad room", access_token: alice })],
    ["no room", 400, "invalid_room_id", () => ({ access_token: alice })],
    ["an unknown room", 403, "room_access_denied", () => ({ room: "no-such-room", access_token: alice })],
    ["a negative since", 400, "invalid_since", () => ({ room, access_token: alice, since: "-1" })],
    ["a since that is not a number", 400, "invalid_since", () => ({ room, access_token: alice, since: "abc" })],
    ["a since that is too large", 400, "invalid_since", () => ({ room, access_token: alice, since: "9".repeat(20) })],
  ])("upgrade with %s → %i %s", async (_label, status, code, query) => {
    const refused = await refusedUpgrade(app.url, query());
    expect(refused).toEqual({ status, body: { error: { code, message: expect.any(String) } } });
  });

  test("an upgrade on another path is 404", async () => {
    const refused = await refusedUpgrade(app.url, { room, access_token: alice }, "/elsewhere");
    expect(refused.status).toBe(404);
  });

  test("invalid frames get an error frame, change nothing, and the connection stays usable", async () => {
    const before = await roomSeq();
    const client = await connect(alice);
    client.ws.send("{not json");
    client.ws.send(JSON.stringify({ type: "shout", data: 1 }));
    client.ws.send(JSON.stringify({ type: "message" }));
    client.ws.send(JSON.stringify([1, 2]));
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const errors = await client.count((f) => f.type === "error", 5);
    expect(errors.map((f) => f.code)).toEqual(Array(5).fill("invalid_frame"));
    expect(errors[0]?.message).toMatch(/not valid JSON/);
    expect(errors[4]?.message).toMatch(/Binary/);
    expect(await roomSeq()).toBe(before);
    client.send("still works");
    expect((await client.next((f) => f.type === "message")).seq).toBe(before + 1);
  });

  test("messages over the per-connection rate are dropped with a rate_limited error, and only accepted ones get a seq", async () => {
    await sleep(1100); // a full bucket
    const before = await roomSeq();
    const client = await connect(alice);
    const startedAt = Date.now();
    for (let i = 0; i < 40; i++) client.send({ i });
    await client.next((f) => f.type === "error");
    await sleep(300);
    const burstSeconds = (Date.now() - startedAt) / 1000;
    const accepted = client.messages();
    // 20 from the full bucket, plus what refilled (20/s) while the server read the burst.
    expect(accepted.length).toBeGreaterThanOrEqual(20);
    expect(accepted.length).toBeLessThanOrEqual(20 + Math.ceil(burstSeconds * 20));
    expect(accepted.length).toBeLessThan(40);
    // The first 20 are accepted in order; dropped ones get no seq.
    expect(accepted.slice(0, 20).map((f) => f.data.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(accepted.map((f) => f.seq)).toEqual(accepted.map((_, k) => before + 1 + k));
    const errors = client.frames.filter((f) => f.type === "error");
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.length).toBeLessThanOrEqual(Math.ceil(burstSeconds)); // at most one per second
    expect(new Set(errors.map((f) => f.code))).toEqual(new Set(["rate_limited"]));
    expect(await roomSeq()).toBe(before + accepted.length);
  });

  test("a frame over WS_MAX_FRAME_BYTES closes the connection with 1009 and is not published", async () => {
    const before = await roomSeq();
    const client = await connect(alice);
    client.send("x".repeat(70_000));
    expect((await client.closed).code).toBe(1009);
    expect(await roomSeq()).toBe(before);
  });

  test("a slow consumer is closed with 4000 once its buffer passes WS_MAX_BUFFERED_BYTES", async () => {
    // Loopback socket buffers absorb tens of MB before the server's own buffer grows: send fast.
    // Heartbeats far apart: a paused client does not answer pings and would be dropped for that first.
    const fast = await startApp(
      // A bound a reading client never reaches (4 MiB, the default), only the one that stopped reading.
      appConfig(backends, "input-fast", {
        WS_MAX_MESSAGES_PER_SECOND: "100000",
        WS_MAX_BUFFERED_BYTES: "4194304",
        // The sender pushes tens of MB through loopback buffers: far over one user's Valkey quota, which is not under test here.
        QUOTA_USER_MESSAGES: "10000000",
        QUOTA_USER_BYTES: "1073741824",
        HEARTBEAT_INTERVAL_MS: "60000",
        PRESENCE_TTL_SECONDS: "120",
      }),
    );
    try {
      const slow = await connect(alice, fast.url);
      const sender = await connect(alice, fast.url);
      slow.ws.pause();
      const payload = "p".repeat(60_000);
      const slowConsumers = async () => (await fast.metrics.slowConsumers.get()).values[0]?.value ?? 0;
      // The sender reads its own messages back and keeps at most 60 unread (60 × 60 KB < the 4 MiB bound),
      // so whatever the load on this machine only the paused client can pass the bound.
      let sent = 0;
      const readBack = () => sender.frames.filter((f) => f.type === "message").length;
      await waitFor(
        async () => {
          while (sent - readBack() < 60) sender.send({ i: sent++, payload });
          return (await slowConsumers()) >= 1;
        },
        { timeoutMs: 20_000, intervalMs: 20, what: "the server to detect the slow consumer" },
      );
      slow.ws.resume();
      expect((await slow.closed).code).toBe(4000);
      // The sender, which reads, is unaffected.
      expect(sender.ws.readyState).toBe(sender.ws.OPEN);
      expect(await slowConsumers()).toBe(1);
    } finally {
      await fast.stop();
    }
  }, 30_000);
});
