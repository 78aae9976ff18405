/**
 * One hostile message must not kill an instance (issue 24, item 1): a `data` nested thousands of
 * levels deep (JSON.stringify throws RangeError on it), or too many values, is refused with an
 * invalid_frame error naming the bound; and a throw anywhere in a message's handling is caught per
 * message (logged, counted, answered with internal_error), never reaching the process's
 * uncaughtException handler. Against a real Valkey and PostgreSQL; the instance runs as a child
 * process (app/src/main.ts), whose uncaughtException handler exits, as in production.
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { Hub } from "../../app/src/realtime/hub";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll, type ManagedProcess } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, OpenClients, sleep, spawnApp, token, type Backends } from "./helpers";

let backends: Backends;
let child: { process: ManagedProcess; url: string; metricsUrl: string };
let alice: string;
let bob: string;
const clients = new OpenClients();

/** `levels` nested arrays around a 1, as text: JSON.parse takes any depth, JSON.stringify does not. */
function nestedArrays(levels: number): string {
  return `${"[".repeat(levels)}1${"]".repeat(levels)}`;
}

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk")]);
  backends = { redisUrl: redis.url, databaseUrl: postgres.url, livekit: [livekit] };
  child = await spawnApp(backends, "hostile", { WS_MAX_DATA_DEPTH: "32", WS_MAX_DATA_NODES: "1000" });
  [alice, bob] = await Promise.all([token("alice", { name: "Alice" }), token("bob", { name: "Bob" })]);
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await stopAll();
});

describe("a message whose data is nested too deep or holds too many values", () => {
  test.each([
    ["nested 5,000 levels deep", `{"type":"message","data":${nestedArrays(5000)}}`, /nested deeper than 32 levels \(WS_MAX_DATA_DEPTH\)/],
    ["nested 33 levels (one over the bound)", `{"type":"message","data":${nestedArrays(33)}}`, /WS_MAX_DATA_DEPTH/],
    ["with 1,001 values", JSON.stringify({ type: "message", data: Array(1000).fill(0) }), /more than 1000 values \(WS_MAX_DATA_NODES\)/],
  ])("%s is refused with invalid_frame; the instance, the sender and the room carry on", async (_label, frame, message) => {
    const room = await createRoom(child.url, alice, "room", ["bob"]);
    const sender = await clients.connect(child.url, room, alice);
    const other = await clients.connect(child.url, room, bob);
    sender.ws.send(frame);
    const error = await sender.next((f) => f.type === "error");
    expect(error).toMatchObject({ code: "invalid_frame", message: expect.stringMatching(message) });
    // Nothing was published, and the instance still serves: the same sockets go on, a new one connects.
    sender.send({ at: "the bound", nested: JSON.parse(nestedArrays(30)) });
    const delivered = await other.next((f) => f.type === "message");
    expect(delivered).toMatchObject({ seq: 1, data: { at: "the bound" } });
    expect((await api(child.url, "GET", "/healthz")).status).toBe(200);
    await clients.connect(child.url, room, bob);
    expect(await Promise.race([child.process.exited.then(() => "exited"), sleep(200).then(() => "running")])).toBe("running");
  });

  test("the refusals are counted as invalid_frame", async () => {
    const metrics = (await api(child.metricsUrl, "GET", "/metrics")).body as string;
    expect(metrics).toMatch(/^gomeet_ws_messages_in_total\{result="invalid_frame",instance="hostile"\} [1-9]\d*$/m);
  });
});

describe("a throw while handling one message", () => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startApp(appConfig(backends, "hostile-inproc"));
  });

  afterAll(async () => {
    await app?.stop();
  });

  test("is caught for that message: logged, counted, answered with internal_error; the connection stays usable", async () => {
    const room = await createRoom(app.url, alice);
    const sender = await clients.connect(app.url, room, alice);
    const publish = jest.spyOn(Hub.prototype, "publish").mockImplementationOnce(() => {
      throw new RangeError("Maximum call stack size exceeded");
    });
    try {
      sender.send({ n: 1 });
      const error = await sender.next((f) => f.type === "error");
      expect(error).toMatchObject({ code: "internal_error", message: expect.any(String) });
      expect(error.message).not.toMatch(/stack/); // no internals to the client
      const counted = (await app.metrics.wsMessagesIn.get()).values.find((v) => v.labels.result === "internal_error");
      expect(counted?.value).toBe(1);
      sender.send({ n: 2 });
      expect(await sender.next((f) => f.type === "message")).toMatchObject({ seq: 1, data: { n: 2 } });
    } finally {
      publish.mockRestore();
    }
  });
});
