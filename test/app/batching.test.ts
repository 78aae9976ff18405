/**
 * Batched publishing (WS_PUBLISH_BATCH_MS) and batched delivery (WS_DELIVERY_BATCH_MS), against a
 * real redis-server: the batch append script, the splitting of a published batch, and instances
 * that batch alongside one that does not.
 */
import { createClient } from "redis";
import { startApp, type RunningApp } from "../../app/src/app";
import { forEachPublishedFrame, messageFramePrefix } from "../../app/src/realtime/frames";
import { roomLogKeys } from "../../app/src/realtime/room-log";
import { MAX_APPEND_BATCH, ROOM_LOG_SCRIPTS } from "../../app/src/realtime/room-log-scripts";
import { startLivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres } from "../../harness/postgres";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { appConfig, createRoom, OpenClients, TestClient, token, type Backends } from "./helpers";

const LIMITS = { maxLength: 100, maxBytes: 16 * 1024 * 1024, maxAgeMs: 60_000, seqTtlMs: 600_000 };

let backends: Backends;
let redis: ReturnType<typeof createClient<Record<string, never>, Record<string, never>, typeof ROOM_LOG_SCRIPTS>>;
let unbatched: RunningApp;
let batched: RunningApp;
const clients = new OpenClients();
const connect = clients.connect;

beforeAll(async () => {
  const [valkey, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk-a")]);
  backends = { redisUrl: valkey.url, databaseUrl: postgres.url, livekit: [livekit] };
  redis = createClient({ url: valkey.url, scripts: ROOM_LOG_SCRIPTS });
  await redis.connect();
  const limit = { WS_MAX_MESSAGES_PER_SECOND: "10000" };
  unbatched = await startApp(appConfig(backends, "unbatched", { ...limit, WS_PUBLISH_BATCH_MS: "0", WS_DELIVERY_BATCH_MS: "0" }));
  batched = await startApp(appConfig(backends, "batched", { ...limit, WS_PUBLISH_BATCH_MS: "40", WS_DELIVERY_BATCH_MS: "25" }));
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await Promise.allSettled([unbatched?.stop(), batched?.stop(), redis?.close()]);
  await stopAll();
});

describe("the batch append script", () => {
  test("gives a batch consecutive seqs, one history entry each, and publishes it as one message of newline-joined frames", async () => {
    const keys = roomLogKeys("script-room");
    const prefix = messageFramePrefix("script-room");
    const published: Buffer[] = [];
    const subscriber = redis.duplicate();
    await subscriber.connect();
    try {
      await subscriber.subscribe(keys.channel, (message) => published.push(message), true);
      const tails = [1, 2, 3].map((n) => `"from":{"id":"u","name":"u"},"data":{"n":${n},"text":"line\\nbreak"}}`);
      expect(await redis.appendMessages({ keys, framePrefix: prefix, tails: tails.slice(0, 1), limits: LIMITS })).toBe(1);
      expect(await redis.appendMessages({ keys, framePrefix: prefix, tails, limits: LIMITS })).toBe(2);
      const history = await redis.zRangeWithScores(keys.history, 0, -1);
      expect(history.map((entry) => entry.score)).toEqual([1, 2, 3, 4]);
      const frames = history.map((entry) => JSON.parse(entry.value));
      expect(frames.map((frame) => frame.seq)).toEqual([1, 2, 3, 4]);
      expect(frames.map((frame) => frame.data.n)).toEqual([1, 1, 2, 3]);
      // One batch, one timestamp; a newline inside the data stays escaped.
      expect(new Set(frames.slice(1).map((frame) => frame.ts)).size).toBe(1);
      expect(frames[1].data.text).toBe("line\nbreak");

      while (published.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      const split: string[][] = published.map((payload) => {
        const parts: string[] = [];
        forEachPublishedFrame(payload, (frame) => parts.push(frame.toString()));
        return parts;
      });
      expect(split.map((parts) => parts.length)).toEqual([1, 3]);
      expect(split.flat()).toEqual(history.map((entry) => entry.value));
    } finally {
      await subscriber.close();
    }
  });

  test("refuses an empty batch and one over MAX_APPEND_BATCH without touching the room", async () => {
    const keys = roomLogKeys("refused-room");
    const prefix = messageFramePrefix("refused-room");
    const tooMany = Array.from({ length: MAX_APPEND_BATCH + 1 }, () => `"from":{},"data":1}`);
    await expect(redis.appendMessages({ keys, framePrefix: prefix, tails: [], limits: LIMITS })).rejects.toThrow(
      `appendMessages takes 1 to ${MAX_APPEND_BATCH} messages; got 0`,
    );
    await expect(redis.appendMessages({ keys, framePrefix: prefix, tails: tooMany, limits: LIMITS })).rejects.toThrow(
      `got ${MAX_APPEND_BATCH + 1}`,
    );
    expect(await redis.exists([keys.seq, keys.history])).toBe(0);
  });
});

describe("instances that batch", () => {
  test("a burst through a batching instance and an unbatched one: every member sees every message once, in one order, and history replays each", async () => {
    const [alice, bob] = await Promise.all([token("alice"), token("bob")]);
    const room = await createRoom(unbatched.url, alice, "room", ["bob"]);
    const onBatched = await connect(batched.url, room, alice);
    const onUnbatched = await connect(unbatched.url, room, bob);
    await onBatched.next((f) => f.type === "presence" && f.event === "join" && f.user.id === "bob");

    const total = 60;
    for (let i = 0; i < total; i++) (i % 3 === 0 ? onUnbatched : onBatched).send({ n: i });
    const received = await Promise.all([onBatched, onUnbatched].map((client) => client.count((f) => f.type === "message", total)));
    const seqs = Array.from({ length: total }, (_, i) => i + 1);
    expect(received[0]?.map((f) => f.seq)).toEqual(seqs);
    expect(received[1]?.map((f) => f.seq)).toEqual(seqs);
    expect(received[1]?.map((f) => f.data.n)).toEqual(received[0]?.map((f) => f.data.n));
    expect(new Set(received[0]?.map((f) => f.data.n)).size).toBe(total);
    // The batching instance's messages keep their order among themselves.
    const fromBatched = (received[0] ?? []).map((f) => f.data.n as number).filter((n) => n % 3 !== 0);
    expect(fromBatched).toEqual([...fromBatched].sort((x, y) => x - y));

    const resumed = await connect(batched.url, room, alice, 0);
    expect(resumed.welcome).toMatchObject({ seq: total, recovered: true });
    const replayed = await resumed.count((f) => f.type === "message", total);
    expect(replayed.map((f) => f.seq)).toEqual(seqs);
  });

  test("messages accepted just before a batching instance stops are still appended and delivered", async () => {
    const leaving = await startApp(
      appConfig(backends, "batched-leaving", { WS_MAX_MESSAGES_PER_SECOND: "10000", WS_PUBLISH_BATCH_MS: "100" }),
    );
    const [alice, bob] = await Promise.all([token("alice"), token("bob")]);
    const room = await createRoom(unbatched.url, alice, "room", ["bob"]);
    const onUnbatched = await connect(unbatched.url, room, alice);
    const onLeaving = await TestClient.connect(leaving.url, { room, token: bob });
    await onUnbatched.next((f) => f.type === "presence" && f.event === "join" && f.user.id === "bob");

    for (let i = 0; i < 5; i++) onLeaving.send({ n: i });
    // Let the frames reach the instance (in-process, well inside its 100 ms batch window), then stop it.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await leaving.stop();
    expect((await onLeaving.closed).code).toBe(1012);
    const received = await onUnbatched.count((f) => f.type === "message", 5);
    expect(received.map((f) => f.data.n)).toEqual([0, 1, 2, 3, 4]);
  });
});
