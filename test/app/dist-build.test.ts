/**
 * The image's build, without Docker: app/dist built by app/Dockerfile's own instructions (harness/
 * dockerfile-build.ts reads them from it), started as the image starts it (its CMD, its ENV, from a
 * directory holding only what the image holds: no app/src), against a real Valkey and PostgreSQL. A
 * move that the Dockerfile does not follow (say, a lua/ directory it no longer copies) fails here.
 */
import fs from "node:fs";
import path from "node:path";
import { buildLikeDockerfile } from "../../harness/dockerfile-build";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { freePort } from "../../harness/ports";
import { startPostgres } from "../../harness/postgres";
import { spawnManaged, stopAll, tempDir, waitForReady } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appEnv, createRoom, OpenClients, token } from "./helpers";

let url: string;
let userToken: string;
let distDir: string;
const clients = new OpenClients();

beforeAll(async () => {
  const [scratch, redis, postgres, livekit] = await Promise.all([
    tempDir("dist-build"),
    startRedis(),
    startPostgres(),
    startLivekitStandIn("lk-a"),
  ]);
  const image = buildLikeDockerfile(scratch);
  distDir = path.join(image.cwd, "dist");
  const port = await freePort();
  const env = appEnv({ redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] }, "dist-app", { PORT: String(port) });
  const [command, ...args] = image.command;
  const app = spawnManaged("app-dist", command === "node" ? process.execPath : (command as string), args, {
    env: { ...env, ...image.env },
    cwd: image.cwd,
  });
  url = `http://127.0.0.1:${port}`;
  // Every dependency up: the PostgreSQL and LiveKit checks run on their own schedule after the start.
  const healthy = async () => (await api(url, "GET", "/readyz")).body?.status === "healthy";
  await waitForReady(app, healthy, { timeoutMs: 30_000, what: "the built app's /readyz to say healthy" });
  userToken = await token("alice", { name: "Alice" });
}, 240_000);

afterAll(async () => {
  await clients.closeAll();
  await stopAll();
});

test("the build puts every Lua script beside the compiled code, and ships no sources", () => {
  const files = fs.readdirSync(distDir, { recursive: true, encoding: "utf8" });
  const lua = files.filter((file) => file.endsWith(".lua"));
  const sourceLua = fs
    .readdirSync(path.resolve(__dirname, "../../app/src"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".lua"));
  expect(lua.sort()).toEqual(sourceLua.sort());
  expect(files.filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts"))).toEqual([]);
  expect(fs.existsSync(path.join(path.dirname(distDir), "src"))).toBe(false);
});

test("the compiled service is ready against real Valkey and PostgreSQL", async () => {
  const readiness = await api(url, "GET", "/readyz");
  expect(readiness.status).toBe(200);
  // The public /readyz says only the verdict (harden-access); "healthy" needs Valkey up (http/readiness.ts).
  expect(readiness.body).toMatchObject({ status: "healthy" });
});

test("its Lua scripts run: a WebSocket join and a message (room log and presence), a LiveKit token (room pin)", async () => {
  const room = await createRoom(url, userToken);
  const client = await clients.connect(url, room, userToken);
  expect(client.welcome).toMatchObject({ room, instance: "dist-app", seq: 0 });
  client.send({ text: "hello from dist" });
  const message = await client.next((frame) => frame.type === "message");
  expect(message).toMatchObject({ room, seq: 1, from: { id: "alice", name: "Alice" }, data: { text: "hello from dist" } });
  const issued = await api(url, "POST", `/rooms/${room}/token`, { token: userToken });
  expect(issued.status).toBe(200);
  expect(issued.body).toMatchObject({ deployment: "lk-a" });
});
