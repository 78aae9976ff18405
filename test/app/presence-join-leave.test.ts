/**
 * A connection that closes while its join is still on its way (waiting for the room's subscribe or
 * for the join script) must leave no member behind: not in the room's presence, not in this
 * instance's heartbeat (which would add it back and announce a join, every beat, for good).
 * Presence and the hub against a real redis-server; then the hub's retry of a failed room subscribe,
 * with stand-ins for the room log and presence.
 */
import { createClient } from "redis";
import { newConnectionId, newRoomId } from "../../app/src/ids";
import { createLogger } from "../../app/src/logger";
import { AppMetrics } from "../../app/src/metrics";
import type { Connection } from "../../app/src/realtime/connection";
import { Hub } from "../../app/src/realtime/hub";
import { instanceConnectionsKey, PresenceService, presenceKeys, type LocalMember } from "../../app/src/realtime/presence";
import type { JoinReply } from "../../app/src/realtime/presence-scripts";
import { RoomLog } from "../../app/src/realtime/room-log";
import { ValkeyConnections } from "../../app/src/valkey/connections";
import { VALKEY_SCRIPTS, type ValkeyScripts } from "../../app/src/wiring/valkey-scripts";
import { stopAll } from "../../harness/process";
import { startRedis } from "../../harness/redis";

const INSTANCE = "app-race";
const logger = createLogger("silent", INSTANCE);
const metrics = new AppMetrics(INSTANCE);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The parts of a Connection the hub uses on join and leave. */
class StandInConnection {
  state: "syncing" | "live" | "closed" = "syncing";
  joined: Promise<void> = Promise.resolve();
  readonly userJson: string;
  readonly finishSync = jest.fn();
  readonly sendWelcome = jest.fn();
  readonly syncResult = undefined;

  constructor(
    readonly roomId: string,
    name: string,
    readonly id = newConnectionId(),
  ) {
    this.userJson = JSON.stringify({ id: name, name });
  }

  markClosed(): boolean {
    if (this.state === "closed") return false;
    this.state = "closed";
    return true;
  }

  get asConnection(): Connection {
    return this as unknown as Connection;
  }
}

describe("against a real redis-server", () => {
  let redis: ValkeyConnections<ValkeyScripts>;
  let presence: PresenceService;
  let hub: Hub;
  let watcher: ReturnType<typeof createClient>;
  /** Every frame published on a watched room's channel, by room. */
  const published = new Map<string, string[]>();

  const joinsOf = (roomId: string, connectionId: string) =>
    (published.get(roomId) ?? []).filter((frame) => frame.includes('"event":"join"') && frame.includes(connectionId));

  async function watch(roomId: string): Promise<void> {
    published.set(roomId, []);
    await watcher.subscribe(presenceKeys(roomId).channel, (message) => published.get(roomId)?.push(message));
  }

  beforeAll(async () => {
    const server = await startRedis();
    redis = new ValkeyConnections(
      { url: server.url, connectTimeoutMs: 2000, roleCheckIntervalMs: 1000, scripts: VALKEY_SCRIPTS },
      INSTANCE,
      logger,
      metrics,
    );
    await redis.start();
    presence = new PresenceService(redis, { instanceId: INSTANCE, presenceTtlMs: 10_000 }, logger, metrics);
    await presence.start();
    const log = new RoomLog(redis, {
      history: { maxLength: 50, maxBytes: 16 * 1024 * 1024, maxAgeMs: 60_000, seqTtlMs: 600_000 },
      publishBatchMs: 0,
    });
    hub = new Hub(log, presence, { instanceId: INSTANCE, replayBatch: 10, replayPageEntries: 10, deliveryBatchMs: 0 }, logger, metrics);
    watcher = createClient({ url: server.url });
    await watcher.connect();
  }, 60_000);

  afterAll(async () => {
    await watcher?.close();
    await redis?.stop();
    await stopAll();
  });

  async function expectGone(roomId: string, connectionId: string): Promise<void> {
    // Heartbeats after the leave: they must neither add the member back nor announce it.
    await presence.beat();
    await presence.beat();
    await sleep(100); // lets the watcher receive whatever was published
    expect(await presence.participants(roomId)).toEqual([]);
    expect(await redis.run((c) => c.hGet(instanceConnectionsKey(INSTANCE), connectionId))).toBeNull();
  }

  test("presence: a leave that starts before the join does leaves no member and announces no join, even after heartbeats", async () => {
    const roomId = newRoomId();
    await watch(roomId);
    const member: LocalMember = { roomId, connectionId: newConnectionId(), userJson: '{"id":"dana","name":"Dana"}' };
    let release!: () => void;
    const waiting = new Promise<void>((resolve) => (release = resolve));
    // The join waits (as the hub's waits for the room's subscribe) while the connection closes.
    const joining = waiting.then(() => presence.join(member, { since: -1, batch: 10 }));
    const leaving = presence.leave(member, joining);
    release();
    expect(await joining).toBeUndefined();
    await leaving;
    await expectGone(roomId, member.connectionId);
    expect(joinsOf(roomId, member.connectionId)).toEqual([]);
  });

  test("presence: a leave while the join's first write is in flight leaves no member, even after heartbeats", async () => {
    const roomId = newRoomId();
    await watch(roomId);
    const member: LocalMember = { roomId, connectionId: newConnectionId(), userJson: '{"id":"erin","name":"Erin"}' };
    const joining = presence.join(member, { since: -1, batch: 10 });
    const leaving = presence.leave(member, joining);
    expect(await joining).toBeUndefined();
    await leaving;
    await expectGone(roomId, member.connectionId);
    expect(joinsOf(roomId, member.connectionId)).toEqual([]);
  });

  test("presence: a join that completed, then a leave: gone after heartbeats (one join, one leave announced)", async () => {
    const roomId = newRoomId();
    await watch(roomId);
    const member: LocalMember = { roomId, connectionId: newConnectionId(), userJson: '{"id":"finn","name":"Finn"}' };
    const joining = presence.join(member, { since: -1, batch: 10 });
    expect((await joining)?.joinFrame).toContain(member.connectionId);
    await presence.leave(member, joining);
    await expectGone(roomId, member.connectionId);
    expect(joinsOf(roomId, member.connectionId)).toHaveLength(1);
  });

  test("hub: a connection that closes while its room subscribes never joins presence, and heartbeats do not bring it back", async () => {
    const roomId = newRoomId();
    await watch(roomId);
    const connection = new StandInConnection(roomId, "gus");
    const presenceJoins = jest.spyOn(presence, "join");
    try {
      const join = hub.join(connection.asConnection, undefined);
      connection.joined = join;
      // The socket closes while the join waits for the room's subscribe.
      const leave = hub.leave(connection.asConnection);
      await join;
      await leave;
      expect(presenceJoins).not.toHaveBeenCalled();
      expect(connection.finishSync).not.toHaveBeenCalled();
    } finally {
      presenceJoins.mockRestore();
    }
    await expectGone(roomId, connection.id);
    expect(joinsOf(roomId, connection.id)).toEqual([]);
  });
});

describe("a room whose subscribe failed", () => {
  const reply: JoinReply = { seq: 0, recoverable: false, joinFrame: '{"type":"presence"}', entries: [] };

  function standIns() {
    const log = {
      subscribe: jest.fn<Promise<void>, [string, (frame: Buffer) => void]>(),
      unsubscribe: jest.fn(async (roomId: string) => void roomId),
      onResubscribed: jest.fn(),
    };
    const presence = { join: jest.fn(async () => reply), leave: jest.fn(async () => undefined) };
    const hub = new Hub(
      log as unknown as RoomLog,
      presence as unknown as PresenceService,
      { instanceId: INSTANCE, replayBatch: 10, replayPageEntries: 10, deliveryBatchMs: 0 },
      logger,
      metrics,
    );
    return { log, presence, hub };
  }

  test("fails the joins waiting for it; the next join subscribes afresh (dropping the failed attempt's listener first)", async () => {
    const { log, presence, hub } = standIns();
    log.subscribe.mockRejectedValueOnce(new Error("subscribe connection down")).mockResolvedValue(undefined);
    const roomId = newRoomId();
    const [first, second, third, fourth] = ["ann", "ben", "cat", "dan"].map((name) => new StandInConnection(roomId, name));

    // Two joins wait for the same attempt; both fail, and their members are still in the room.
    const failed = await Promise.allSettled([hub.join(first!.asConnection, undefined), hub.join(second!.asConnection, undefined)]);
    expect(failed.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    expect(log.subscribe).toHaveBeenCalledTimes(1);
    expect(presence.join).not.toHaveBeenCalled();

    // A later join, while those members are still there, subscribes again and joins.
    await hub.join(third!.asConnection, undefined);
    expect(log.unsubscribe).toHaveBeenCalledTimes(1);
    expect(log.unsubscribe.mock.invocationCallOrder[0]).toBeLessThan(log.subscribe.mock.invocationCallOrder[1] as number);
    expect(log.subscribe).toHaveBeenCalledTimes(2);
    expect(log.subscribe.mock.calls[1]?.[0]).toBe(roomId);
    expect(presence.join).toHaveBeenCalledTimes(1);
    expect(third!.finishSync).toHaveBeenCalledWith(expect.objectContaining({ seq: 0, recovered: false }));

    // Once subscribed, joins do not subscribe again.
    await hub.join(fourth!.asConnection, undefined);
    expect(log.subscribe).toHaveBeenCalledTimes(2);
    expect(log.unsubscribe).toHaveBeenCalledTimes(1);
    expect(presence.join).toHaveBeenCalledTimes(2);
    await sleep(10); // lets the hub's pending delivery run
  });
});
