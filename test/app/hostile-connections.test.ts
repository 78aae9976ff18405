/**
 * Hostile connections (issue 24, items 6 and 8), against real Valkey and PostgreSQL:
 * - refused upgrades and unparsable requests from clients that never close leave no descriptor
 *   behind (the instance is a child process; its /proc/<pid>/fd is counted), and a request whose
 *   headers stall is answered 408 after HTTP_HEADERS_TIMEOUT_MS;
 * - client-chosen close codes do not become unbounded metric labels;
 * - one user's sockets are capped per instance (WS_MAX_SOCKETS_PER_USER, 429 too_many_connections);
 * - refused room lookups (403 room_access_denied: not a member, or no such room) are limited per user
 *   (ROOM_MISSES_PER_WINDOW) without telling the two apart, and "not found" is cached in the room lookup,
 *   so a repeated miss reads no database.
 */
import fs from "node:fs";
import net from "node:net";
import { startApp, type RunningApp } from "../../app/src/app";
import type { Database } from "../../app/src/db/database";
import { RoomRepository } from "../../app/src/db/rooms";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll, waitFor, type ManagedProcess } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, OpenClients, refusedUpgrade, sleep, spawnApp, TestClient, token, type Backends } from "./helpers";

let backends: Backends;
let child: { process: ManagedProcess; url: string };
let app: RunningApp;
let alice: string;
const clients = new OpenClients();
const lingering: net.Socket[] = [];

const openDescriptors = (pid: number): number => fs.readdirSync(`/proc/${pid}/fd`).length;

/** Sends `request` on a new connection that reads whatever comes back but never closes; resolves with the first bytes. */
function neverClosing(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // allowHalfOpen: the server's FIN does not make this end close too (Node's default would).
    const socket = net.connect({ host: hostname, port: Number(port), allowHalfOpen: true }, () => socket.write(request));
    socket.on("error", () => undefined); // the server may reset it: that is what is wanted
    socket.once("data", (chunk: Buffer) => resolve(chunk.toString("latin1")));
    socket.once("close", () => resolve(""));
    setTimeout(() => reject(new Error(`no answer to ${JSON.stringify(request.slice(0, 40))}`)), 5000).unref();
    lingering.push(socket);
  });
}

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  const limits = {
    WS_MAX_SOCKETS_PER_USER: "3",
    ROOM_MISSES_PER_WINDOW: "5",
    HTTP_HEADERS_TIMEOUT_MS: "1000",
    HTTP_REQUEST_TIMEOUT_MS: "2000",
  };
  [child, app] = await Promise.all([
    spawnApp(backends, "hostile-conn", limits),
    startApp(appConfig(backends, "hostile-conn-inproc", limits)),
  ]);
  alice = await token("alice", { name: "Alice" });
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  for (const socket of lingering) socket.destroy();
  await app?.stop();
  await stopAll();
});

describe("clients that never close", () => {
  test("60 unparsable requests and 60 refused upgrades leave no server descriptor behind", async () => {
    const pid = child.process.pid;
    const before = openDescriptors(pid);
    const answers = await Promise.all([
      ...Array.from({ length: 60 }, (_, i) => neverClosing(child.url, `GARBAGE ${i} \u0001\u0002\r\n\r\n`)),
      ...Array.from({ length: 60 }, () =>
        neverClosing(
          child.url,
          "GET /ws?room=abc HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        ),
      ),
    ]);
    expect(answers.slice(0, 60).every((answer) => answer.startsWith("HTTP/1.1 400"))).toBe(true);
    expect(answers.slice(60).every((answer) => answer.startsWith("HTTP/1.1 401"))).toBe(true);
    // The clients keep their ends open; the server lets go of its own within the grace period.
    await waitFor(async () => openDescriptors(pid) <= before + 2, {
      timeoutMs: 5000,
      intervalMs: 100,
      what: `the instance's descriptors to return to ${before} (+2)`,
    });
  });

  test("a request whose headers stall is answered 408 after HTTP_HEADERS_TIMEOUT_MS and its socket closed", async () => {
    const started = Date.now();
    const answer = await neverClosing(child.url, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe("close codes chosen by clients", () => {
  test("are metric labels only when known: 40 distinct codes make one 'other' series", async () => {
    const closers = Array.from({ length: 40 }, (_, i) => `closer-${4100 + i}`);
    const room = await createRoom(app.url, alice, "room", closers);
    for (let code = 4100; code < 4140; code++) {
      const client = await TestClient.connect(app.url, { room, token: await token(`closer-${code}`) });
      client.ws.close(code, "bye");
      await client.closed;
    }
    await waitFor(async () => ((await app.metrics.wsClosed.get()).values.find((v) => v.labels.reason === "other")?.value ?? 0) >= 40, {
      timeoutMs: 5000,
      intervalMs: 50,
      what: "40 closes counted as other",
    });
    const reasons = (await app.metrics.wsClosed.get()).values.map((v) => String(v.labels.reason));
    expect(reasons.filter((reason) => !/^[a-z_]+$/.test(reason))).toEqual([]);
    expect(reasons.some((reason) => reason.includes("41"))).toBe(false);
  });
});

describe("one user's sockets", () => {
  test("are capped per instance: over WS_MAX_SOCKETS_PER_USER the upgrade is refused with 429 too_many_connections", async () => {
    const room = await createRoom(app.url, alice, "room", ["many-sockets"]);
    const user = await token("many-sockets");
    const open = [];
    for (let i = 0; i < 3; i++) open.push(await clients.connect(app.url, room, user));
    const refused = await refusedUpgrade(app.url, { room, access_token: user });
    expect(refused).toEqual({
      status: 429,
      body: { error: { code: "too_many_connections", message: expect.stringMatching(/WS_MAX_SOCKETS_PER_USER/) } },
    });
    // Another user is not affected; a closed socket gives its slot back.
    await clients.connect(app.url, room, alice);
    await open[0]?.close();
    await sleep(50);
    await clients.connect(app.url, room, user);
  });
});

describe("refused room lookups", () => {
  test("are limited per user: past ROOM_MISSES_PER_WINDOW refusals, 429 with Retry-After, whether or not the room exists; cached members and other users unaffected", async () => {
    const prober = await token("prober");
    const othersRoom = await createRoom(app.url, alice);
    const ownRoom = await createRoom(app.url, prober); // its creator's ownership is cached on this instance
    // A room that exists but is not the prober's and a room that does not exist look alike.
    const lookups = [othersRoom, "missing-1", "missing-2", "missing-3", "missing-4"];
    for (const id of lookups) {
      expect(await api(app.url, "GET", `/rooms/${id}`, { token: prober })).toMatchObject({
        status: 403,
        body: { error: { code: "room_access_denied" } },
      });
    }
    const limited = await api(app.url, "GET", "/rooms/missing-5", { token: prober });
    expect(limited).toEqual({
      status: 429,
      body: { error: { code: "rate_limited", message: expect.stringMatching(/ROOM_MISSES_PER_WINDOW/) } },
    });
    expect((await api(app.url, "GET", "/rooms/missing-6/participants", { token: prober })).status).toBe(429);
    // The limit says nothing about existence either: an existing room the prober is not in is limited the same.
    expect((await api(app.url, "GET", `/rooms/${othersRoom}`, { token: prober })).status).toBe(429);
    expect((await api(app.url, "GET", `/rooms/${ownRoom}`, { token: prober })).status).toBe(200);
    expect((await api(app.url, "GET", "/rooms/missing-5", { token: alice })).status).toBe(403);
  });

  test("'not found' is cached: a repeated miss reads neither a replica nor the primary", async () => {
    const calls = { read: 0, write: 0 };
    const db = {
      read: async () => (calls.read++, []),
      readLatest: async () => (calls.write++, []),
    } as unknown as Database;
    let now = 1_000_000;
    const rooms = new RoomRepository(db, 10_000, () => now);
    await expect(rooms.get("nope")).rejects.toMatchObject({ status: 404, code: "room_not_found" });
    expect(calls).toEqual({ read: 1, write: 1 }); // the replica, then the primary's confirmation
    await expect(rooms.get("nope")).rejects.toMatchObject({ status: 404 });
    expect(calls).toEqual({ read: 1, write: 1 });
    now += 10_001; // the cached answer expires: asked again
    await expect(rooms.get("nope")).rejects.toMatchObject({ status: 404 });
    expect(calls).toEqual({ read: 2, write: 2 });
  });
});
