/**
 * Rooms across instances against a real redis-server and PostgreSQL: fan-out, ordering, presence,
 * the dead-instance purge, recovery with since=, and graceful shutdown.
 */
import { startApp, type RunningApp } from "../../app/src/app";
import { startLivekitStandIn, type LivekitStandIn } from "../../harness/livekit-standin";
import { startPostgres, type PgNode } from "../../harness/postgres";
import { stopAll, type ManagedProcess } from "../../harness/process";
import { startRedis } from "../../harness/redis";
import { api, appConfig, createRoom, OpenClients, sleep, spawnApp, TestClient, token, type Backends } from "./helpers";

let backends: Backends;
let a: RunningApp;
let b: RunningApp;
let c: { process: ManagedProcess; url: string };
let alice: string;
let bob: string;
let carol: string;
const clients = new OpenClients();
const connect = clients.connect;

beforeAll(async () => {
  const [redis, postgres, livekit] = await Promise.all([startRedis(), startPostgres(), startLivekitStandIn("lk-a")]);
  backends = { redisUrl: redis.url, databaseUrl: (postgres as PgNode).url, livekit: [livekit as LivekitStandIn] };
  a = await startApp(
    appConfig(backends, "app-a", { HISTORY_MAX_LENGTH: "50", HISTORY_REPLAY_BATCH: "7", WS_MAX_MESSAGES_PER_SECOND: "10000" }),
  );
  b = await startApp(
    appConfig(backends, "app-b", { HISTORY_MAX_LENGTH: "50", HISTORY_REPLAY_BATCH: "7", WS_MAX_MESSAGES_PER_SECOND: "10000" }),
  );
  c = await spawnApp(backends, "app-c", { HISTORY_MAX_LENGTH: "50", WS_MAX_MESSAGES_PER_SECOND: "10000" });
  [alice, bob, carol] = await Promise.all([token("alice", { name: "Alice" }), token("bob", { name: "Bob" }), token("carol")]);
}, 60_000);

afterEach(async () => {
  await clients.closeAll();
});

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  await stopAll();
});

describe("fan-out across instances", () => {
  test("a message accepted by any instance reaches every member on every instance, in one order with increasing seq", async () => {
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const onA = await connect(a.url, room, alice);
    const onB = await connect(b.url, room, bob);
    const onC = await connect(c.url, room, carol);
    expect(onA.welcome).toMatchObject({ room, instance: "app-a", seq: 0, recovered: false });
    expect(onB.welcome.instance).toBe("app-b");

    for (let i = 0; i < 20; i++) [onA, onB, onC][i % 3]?.send({ n: i });
    const received = await Promise.all([onA, onB, onC].map((client) => client.count((f) => f.type === "message", 20)));
    const sequences = received.map((frames) => frames.map((f) => f.seq as number));
    expect(sequences[0]).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(sequences[1]).toEqual(sequences[0]);
    expect(sequences[2]).toEqual(sequences[0]);
    // One order everywhere, same payloads.
    expect(received[1]?.map((f) => f.data)).toEqual(received[0]?.map((f) => f.data));
    const first = received[0]?.find((f) => f.data.n === 1);
    expect(first).toMatchObject({ type: "message", room, from: { id: "bob", name: "Bob" } });
    expect(typeof first?.ts).toBe("number");
    // A user without a name claim is shown with the user id.
    expect(received[0]?.find((f) => f.data.n === 2)?.from).toEqual({ id: "carol", name: "carol" });
  });

  test("rooms are isolated", async () => {
    const [room1, room2] = await Promise.all([
      createRoom(a.url, alice, "room", ["bob", "carol"]),
      createRoom(a.url, alice, "room", ["bob", "carol"]),
    ]);
    const in1 = await connect(a.url, room1 as string, alice);
    const in2 = await connect(b.url, room2 as string, bob);
    in1.send("only room 1");
    await in1.next((f) => f.type === "message");
    in2.send("only room 2");
    await in2.next((f) => f.type === "message");
    await sleep(100);
    expect(in1.messages().map((f) => f.data)).toEqual(["only room 1"]);
    expect(in2.messages().map((f) => f.data)).toEqual(["only room 2"]);
  });
});

describe("presence", () => {
  test("join and leave are announced on every instance and listed by /participants", async () => {
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const onA = await connect(a.url, room, alice);
    const onB = await connect(b.url, room, bob);
    const join = await onA.next((f) => f.type === "presence" && f.event === "join" && f.user.id === "bob");
    expect(join).toEqual({ type: "presence", event: "join", user: { id: "bob", name: "Bob" }, connectionId: onB.welcome.connectionId });

    const listed = await api(b.url, "GET", `/rooms/${room}/participants`, { token: bob });
    expect(listed.status).toBe(200);
    expect(listed.body.room).toBe(room);
    expect(listed.body.participants.map((p: any) => [p.user.id, p.instance]).sort()).toEqual([
      ["alice", "app-a"],
      ["bob", "app-b"],
    ]);

    await onB.close();
    const leave = await onA.next((f) => f.type === "presence" && f.event === "leave");
    expect(leave).toMatchObject({ user: { id: "bob", name: "Bob" }, connectionId: onB.welcome.connectionId });
    const after = await api(a.url, "GET", `/rooms/${room}/participants`, { token: alice });
    expect(after.body.participants.map((p: any) => p.user.id)).toEqual(["alice"]);
  });

  test("a connection that stops answering pings is dropped by the heartbeat, with a leave", async () => {
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const watcher = await connect(b.url, room, bob);
    const silent = await connect(a.url, room, carol);
    silent.ws.pause(); // reads nothing, so it answers no ping
    const leave = await watcher.next((f) => f.type === "presence" && f.event === "leave" && f.user.id === "carol", 5000);
    expect(leave.connectionId).toBe(silent.welcome.connectionId);
    silent.ws.resume(); // lets it see the end of the socket
    expect((await a.metrics.heartbeatTimeouts.get()).values[0]?.value).toBeGreaterThanOrEqual(1);
  });

  test("the members of an instance that dies without cleanup are purged by the survivors, with a leave each", async () => {
    const victim = await spawnApp(backends, "app-victim");
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const onA = await connect(a.url, room, alice);
    const doomed = await Promise.all([connect(victim.url, room, bob), connect(victim.url, room, carol)]);
    await onA.count((f) => f.type === "presence" && f.event === "join" && f.user.id !== "alice", 2);

    const killedAt = Date.now();
    await victim.process.kill();
    const leaves = await onA.count((f) => f.type === "presence" && f.event === "leave", 2, 10_000);
    const purgeMs = Date.now() - killedAt;
    expect(leaves.map((f) => f.connectionId).sort()).toEqual(doomed.map((d) => d.welcome.connectionId).sort());
    // PRESENCE_TTL_SECONDS=2 and a 500 ms heartbeat in tests: "within seconds".
    expect(purgeMs).toBeLessThan(6000);
    const listed = await api(a.url, "GET", `/rooms/${room}/participants`, { token: alice });
    expect(listed.body.participants.map((p: any) => p.user.id)).toEqual(["alice"]);
  });
});

describe("recovery with since", () => {
  async function roomWithMessages(count: number): Promise<{ room: string; sender: TestClient }> {
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const sender = await connect(a.url, room, alice);
    for (let i = 1; i <= count; i++) sender.send({ i });
    await sender.count((f) => f.type === "message", count);
    return { room, sender };
  }

  test("inside the history window: every message after since, in order, once, across replay batches", async () => {
    const { room } = await roomWithMessages(30);
    const resumed = await connect(b.url, room, bob, 3);
    expect(resumed.welcome).toMatchObject({ seq: 30, recovered: true, instance: "app-b" });
    const replayed = await resumed.count((f) => f.type === "message", 27);
    await sleep(100);
    expect(resumed.messages().map((f) => f.seq)).toEqual(Array.from({ length: 27 }, (_, i) => i + 4));
    expect(replayed[0]?.data).toEqual({ i: 4 });
    // The welcome comes first, then the replay.
    expect(resumed.frames[0]?.type).toBe("welcome");
  });

  test("since equal to the room's seq is recovered with nothing to replay", async () => {
    const { room } = await roomWithMessages(3);
    const resumed = await connect(a.url, room, bob, 3);
    expect(resumed.welcome).toMatchObject({ seq: 3, recovered: true });
    await sleep(100);
    expect(resumed.messages()).toEqual([]);
  });

  test("beyond the history window (or ahead of the room): recovered false and no partial replay", async () => {
    const { room } = await roomWithMessages(55); // HISTORY_MAX_LENGTH=50 keeps seqs 6..55
    const tooOld = await connect(b.url, room, bob, 4);
    expect(tooOld.welcome).toMatchObject({ seq: 55, recovered: false });
    const edge = await connect(b.url, room, bob, 5);
    expect(edge.welcome).toMatchObject({ seq: 55, recovered: true });
    const ahead = await connect(a.url, room, carol, 99);
    expect(ahead.welcome).toMatchObject({ seq: 55, recovered: false });
    await edge.count((f) => f.type === "message", 50);
    await sleep(100);
    expect(tooOld.messages()).toEqual([]);
    expect(ahead.messages()).toEqual([]);
    expect(edge.messages().map((f) => f.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 6));
  });

  test("history is bounded by age: older messages are trimmed on append, an idle room's history expires", async () => {
    const shortLived = await startApp(appConfig(backends, "app-short-history", { HISTORY_MAX_AGE_SECONDS: "1" }));
    try {
      const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
      const sender = await connect(shortLived.url, room, alice);
      for (let i = 1; i <= 3; i++) sender.send(i);
      await sender.count((f) => f.type === "message", 3);
      await sleep(1200);
      sender.send(4);
      await sender.next((f) => f.type === "message" && f.data === 4);
      const fromStart = await connect(b.url, room, bob, 0);
      expect(fromStart.welcome).toMatchObject({ seq: 4, recovered: false });
      const recent = await connect(b.url, room, bob, 3);
      expect(recent.welcome).toMatchObject({ seq: 4, recovered: true });
      expect((await recent.next((f) => f.type === "message")).data).toBe(4);
      await sleep(1200);
      const afterIdle = await connect(b.url, room, bob, 3);
      expect(afterIdle.welcome).toMatchObject({ seq: 4, recovered: false });
    } finally {
      await shortLived.stop();
    }
  });

  test("resuming while messages keep flowing loses and duplicates nothing", async () => {
    // The appending instance's limits apply: this one keeps 1000 messages, so the resume stays inside the window.
    const roomy = await startApp(appConfig(backends, "app-roomy", { WS_MAX_MESSAGES_PER_SECOND: "10000" }));
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const sender = await connect(roomy.url, room, alice);
    const total = 200;
    let sent = 0;
    const pump = setInterval(() => {
      for (let i = 0; i < 10 && sent < total; i++) sender.send({ i: ++sent });
    }, 5);
    try {
      await sender.count((f) => f.type === "message", 40);
      const observer = await connect(b.url, room, bob);
      const last = observer.welcome.seq as number;
      await observer.close();
      const resumed = await connect(b.url, room, bob, last);
      await sender.count((f) => f.type === "message", total, 10_000);
      const seqs = (await resumed.count((f) => f.type === "message", total - last, 10_000)).map((f) => f.seq);
      await sleep(100);
      expect(resumed.messages().map((f) => f.seq)).toEqual(Array.from({ length: total - last }, (_, i) => last + 1 + i));
      expect(seqs[0]).toBe(last + 1);
      expect(resumed.welcome.recovered).toBe(true);
    } finally {
      clearInterval(pump);
      await roomy.stop();
    }
  });
});

describe("graceful shutdown", () => {
  test("SIGTERM: the process closes its sockets with 1012, removes its presence and exits 0", async () => {
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const onA = await connect(a.url, room, alice);
    const onC = await TestClient.connect(c.url, { room, token: carol });
    await onA.next((f) => f.type === "presence" && f.event === "join" && f.user.id === "carol");
    const stopped = c.process.stop(10_000);
    expect((await onC.closed).code).toBe(1012);
    await onA.next((f) => f.type === "presence" && f.event === "leave" && f.user.id === "carol");
    await stopped;
    expect(await c.process.exited).toBe(0);
  });

  test("readyz 503 first, sockets closed with 1012, presence removed, instance deregistered", async () => {
    const leaving = await startApp(appConfig(backends, "app-leaving", { SHUTDOWN_DRAIN_SECONDS: "1" }));
    const room = await createRoom(a.url, alice, "room", ["bob", "carol"]);
    const onA = await connect(a.url, room, alice);
    const onLeaving = await TestClient.connect(leaving.url, { room, token: bob });
    await onA.next((f) => f.type === "presence" && f.event === "join" && f.user.id === "bob");

    const stopped = leaving.stop();
    await sleep(200);
    const ready = await api(leaving.url, "GET", "/readyz");
    expect(ready.status).toBe(503);
    expect(ready.body.draining).toBe(true);
    const closed = await onLeaving.closed;
    expect(closed.code).toBe(1012);
    await onA.next((f) => f.type === "presence" && f.event === "leave" && f.user.id === "bob");
    await stopped;
    const listed = await api(a.url, "GET", `/rooms/${room}/participants`, { token: alice });
    expect(listed.body.participants.map((p: any) => p.user.id)).toEqual(["alice"]);
  });
});
