/**
 * The instance's rooms: which local connections are in which room, the room subscriptions, and
 * the fan-out of published frames to local sockets.
 *
 * Every frame of a room reaches this instance through its Valkey channel, in the order the room's
 * scripts ran (the sender's own instance included), so all members see one order; a published
 * batch (several messages of one script) is split back into frames. Frames that arrive within one
 * delivery (one event-loop turn, or the WS_DELIVERY_BATCH_MS window under load) are framed once
 * per room and written with one write per socket.
 * Message seqs are checked on arrival: a duplicate is dropped, a gap (missed while the subscription
 * was away) is filled from history before later frames are delivered.
 */
import WebSocket from "ws";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { instanceConnectionsKey, roomKeys, type RoomKeys } from "../redis/keys";
import type { RedisConnections } from "../redis/connections";
import type { HistoryLimits } from "./room-log-scripts";
import type { Connection } from "./connection";
import { PacedRun } from "./paced-run";
import { MessagePublisher } from "./publisher";
import {
  forEachPublishedFrame,
  frameTextMessages,
  isMessageFrame,
  messageFramePrefix,
  messageFrameTail,
  messageSeqAndTs,
  messageSeqOfText,
  presenceJoinFrame,
  welcomeFrame,
} from "./frames";

export interface HubOptions {
  instanceId: string;
  history: HistoryLimits;
  replayBatch: number;
  presenceTtlMs: number;
  /** WS_PUBLISH_BATCH_MS: least time between two sends of accepted messages to Valkey (0: one per event-loop turn). */
  publishBatchMs: number;
  /** WS_DELIVERY_BATCH_MS: least time between two deliveries to this instance's sockets (0: one per event-loop turn). */
  deliveryBatchMs: number;
}

/** Attempts to fill a gap from history, each after waiting up to HEAL_READY_TIMEOUT_MS for the command connection. */
const HEAL_ATTEMPTS = 5;
const HEAL_READY_TIMEOUT_MS = 2000;

/** One room with members on this instance. */
class LocalRoom {
  readonly keys: RoomKeys;
  readonly prefix: string;
  readonly prefixLength: number;
  readonly members = new Set<Connection>();
  /** Highest message seq delivered here (-1: none yet). */
  lastSeq = -1;
  /** Highest seq a local join has seen (the gap check's floor before the first message arrives). */
  baseSeq = -1;
  /** Frames to deliver at the next flush, in arrival order. */
  queue: Buffer[] = [];
  /** Connections whose sync finished and that go live at the next flush. */
  activating: Connection[] = [];
  /** While a gap is being filled from history, arriving frames wait here. */
  held: Buffer[] | undefined;
  subscribed: Promise<void>;
  /** Receives the room's published Valkey messages (a frame, or a batch of frames). */
  readonly listener: (payload: Buffer) => void;

  constructor(
    readonly id: string,
    onFrame: (room: LocalRoom, frame: Buffer) => void,
  ) {
    this.keys = roomKeys(id);
    this.prefix = messageFramePrefix(id);
    this.prefixLength = Buffer.byteLength(this.prefix);
    const onPublishedFrame = (frame: Buffer) => onFrame(this, frame);
    this.listener = (payload) => forEachPublishedFrame(payload, onPublishedFrame);
    this.subscribed = Promise.resolve();
  }
}

export class Hub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly dirty = new Set<LocalRoom>();
  /** Delivers the dirty rooms: once per event-loop turn, or at most once per WS_DELIVERY_BATCH_MS under load. */
  private readonly deliveries: PacedRun;
  private readonly indexKey: string;
  private readonly publisher: MessagePublisher;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: HubOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.indexKey = instanceConnectionsKey(options.instanceId);
    this.publisher = new MessagePublisher(redis, { batchMs: options.publishBatchMs, history: options.history });
    this.deliveries = new PacedRun(options.deliveryBatchMs, () => this.flush());
    redis.on("resubscribed", () => void this.healAll());
  }

  /** Local connections grouped by room (for heartbeats and shutdown). */
  connectionsByRoom(): Map<string, Connection[]> {
    const result = new Map<string, Connection[]>();
    for (const [id, room] of this.rooms) result.set(id, [...room.members]);
    return result;
  }

  /**
   * Adds the connection to its room: subscribe (first local member), index it for the
   * dead-instance purge, publish its join and read the room's seq atomically, replay history after
   * `since`, then go live at the next flush. Throws when Valkey is unavailable.
   */
  async join(connection: Connection, since: number | undefined): Promise<void> {
    const room = this.roomFor(connection.roomId);
    room.members.add(connection);
    this.metrics.wsConnections.inc();
    await room.subscribed;
    await this.redis.run((c) => c.hSet(this.indexKey, connection.id, connection.roomId));
    if (connection.state === "closed") return;
    const reply = await this.redis.run((c) => {
      // Set synchronously with the send: heartbeat refreshes issued from now on queue behind the join.
      connection.presenceSent = true;
      return c.presenceJoin({
        keys: room.keys,
        member: { connectionId: connection.id, instanceId: this.options.instanceId, userJson: connection.userJson },
        ttl: { memberMs: this.options.presenceTtlMs, keyMs: this.options.presenceTtlMs * 2 },
        replay: { since: since ?? -1, batch: this.options.replayBatch },
      });
    });
    room.baseSeq = Math.max(room.baseSeq, reply.seq);
    let recovered = since !== undefined && reply.recoverable;
    let replay: string[] = [];
    if (recovered) {
      const complete = await this.readReplay(room, since as number, reply.seq, reply.entries);
      if (complete === undefined) recovered = false;
      else replay = complete;
    }
    if (since !== undefined) this.metrics.recoveries.inc({ result: recovered ? "recovered" : "not_recovered" });
    connection.syncResult = { seq: reply.seq, recovered, replay: replay.map((entry) => Buffer.from(entry)) };
    room.activating.push(connection);
    this.markDirty(room);
  }

  /** Removes the connection; the last local member unsubscribes the room. Presence is removed in Valkey. */
  async leave(connection: Connection): Promise<void> {
    if (connection.state === "closed") return;
    connection.state = "closed";
    const room = this.rooms.get(connection.roomId);
    if (room !== undefined && room.members.delete(connection)) {
      this.metrics.wsConnections.dec();
      if (room.members.size === 0) {
        this.rooms.delete(room.id);
        this.dirty.delete(room);
        this.redis.unsubscribe(room.keys.channel).catch((error: unknown) => {
          this.logger.warn({ room: room.id, err: errorMessage(error) }, "unsubscribe failed");
        });
      }
    }
    // The join may still be running: removing presence before its script ran would leave a ghost.
    await connection.joined.catch(() => undefined);
    try {
      await this.redis.run((c) => c.presenceLeave({ keys: roomKeys(connection.roomId), connectionId: connection.id }));
      await this.redis.run((c) => c.hDel(this.indexKey, connection.id));
    } catch (error) {
      // The member expires on its own (PRESENCE_TTL_SECONDS) and the index entry is purged with it.
      this.logger.warn({ connection: connection.id, err: errorMessage(error) }, "presence leave failed; member will expire");
    }
  }

  /**
   * Appends a client message to the room's history and publishes it, with the room's other messages
   * of the same publish window (one atomic script per room and window); resolves with its seq.
   */
  publish(connection: Connection, data: unknown): Promise<number> {
    const room = this.rooms.get(connection.roomId);
    const keys = room?.keys ?? roomKeys(connection.roomId);
    const prefix = room?.prefix ?? messageFramePrefix(connection.roomId);
    return this.publisher.append(keys, prefix, messageFrameTail(connection.userJson, data));
  }

  /**
   * Closes every local connection with `code` (shutdown: 1012, so clients reconnect elsewhere),
   * removes their presence, and terminates sockets whose close handshake is not done after `graceMs`.
   */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    // Messages already accepted are appended and published before their senders are closed.
    this.publisher.flush();
    const connections = [...this.rooms.values()].flatMap((room) => [...room.members]);
    const closed = connections.map((connection) => new Promise<void>((resolve) => {
      if (connection.ws.readyState === WebSocket.CLOSED) resolve();
      else connection.ws.once("close", () => resolve());
    }));
    for (const connection of connections) connection.close(code, reason);
    await Promise.all(connections.map((connection) => this.leave(connection)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const connection of connections) connection.ws.terminate();
  }

  private roomFor(roomId: string): LocalRoom {
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      const created = new LocalRoom(roomId, (r, frame) => this.onFrame(r, frame, true));
      created.subscribed = this.redis.subscribe(created.keys.channel, created.listener);
      // A failed subscribe surfaces in join(); keep it from being an unhandled rejection meanwhile.
      created.subscribed.catch(() => undefined);
      this.rooms.set(roomId, created);
      room = created;
    }
    return room;
  }

  /** Reads the rest of the replay after the join script's first batch; undefined if history was trimmed past it meanwhile. */
  private async readReplay(room: LocalRoom, since: number, seq: number, first: string[]): Promise<string[] | undefined> {
    const entries = [...first];
    let cursor = entries.length > 0 ? messageSeqOfText(entries[entries.length - 1] as string, room.prefixLength) : since;
    while (cursor < seq) {
      const page = await this.redis.run((c) => c.historyAfter({ keys: room.keys, after: cursor, limit: this.options.replayBatch }));
      // Trimming removes the oldest entries: if the oldest left is past cursor + 1, something we need is gone.
      if (page.oldest < 0 || page.oldest > cursor + 1 || page.entries.length === 0) return undefined;
      for (const entry of page.entries) {
        const entrySeq = messageSeqOfText(entry, room.prefixLength);
        if (entrySeq > seq) return entries;
        entries.push(entry);
        cursor = entrySeq;
      }
    }
    return entries;
  }

  private onFrame(room: LocalRoom, frame: Buffer, healGaps: boolean): void {
    if (room.held !== undefined) {
      room.held.push(frame);
      return;
    }
    if (isMessageFrame(frame)) {
      const { seq } = messageSeqAndTs(frame, room.prefixLength);
      if (seq <= room.lastSeq) return;
      const expected = Math.max(room.lastSeq, room.baseSeq);
      if (healGaps && expected >= 0 && seq > expected + 1) {
        room.held = [frame];
        void this.heal(room, expected, seq);
        return;
      }
      room.lastSeq = seq;
    }
    room.queue.push(frame);
    this.markDirty(room);
  }

  /**
   * Delivers history entries after `after` (and before `before`, when given), then the frames held
   * meanwhile. Retries while the command connection comes back (it may reconnect after the
   * subscribe connection); gives up after HEAL_ATTEMPTS and delivers what it has.
   */
  private async heal(room: LocalRoom, after: number, before?: number): Promise<void> {
    room.held ??= [];
    let cursor = after;
    for (let attempt = 1; attempt <= HEAL_ATTEMPTS; attempt++) {
      try {
        await this.redis.commandReady(HEAL_READY_TIMEOUT_MS);
        for (;;) {
          const page = await this.redis.run((c) => c.historyAfter({ keys: room.keys, after: cursor, limit: this.options.replayBatch }));
          let reachedEnd = page.entries.length < this.options.replayBatch;
          for (const entry of page.entries) {
            const seq = messageSeqOfText(entry, room.prefixLength);
            if (before !== undefined && seq >= before) {
              reachedEnd = true;
              break;
            }
            cursor = seq;
            if (seq > room.lastSeq) {
              room.lastSeq = seq;
              room.queue.push(Buffer.from(entry));
              this.metrics.gapHeals.inc();
            }
          }
          if (reachedEnd) break;
        }
        break;
      } catch (error) {
        const last = attempt === HEAL_ATTEMPTS;
        this.logger.warn({ room: room.id, attempt, err: errorMessage(error) }, last ? "could not fill a gap from history; continuing without it" : "filling a gap from history failed; retrying");
      }
    }
    const held = room.held ?? [];
    room.held = undefined;
    // What history could not provide is gone: accept the held frames' seqs without healing again.
    for (const frame of held) this.onFrame(room, frame, false);
    this.markDirty(room);
  }

  /**
   * After the subscription came back (reconnect or recycle): raise each room's seq counter to what
   * this instance already delivered (a failover may have lost the newest writes), then deliver
   * whatever was published while the subscription was away.
   */
  private async healAll(): Promise<void> {
    await this.redis.commandReady(HEAL_READY_TIMEOUT_MS);
    for (const room of [...this.rooms.values()]) {
      const after = Math.max(room.lastSeq, room.baseSeq);
      if (after < 0) continue;
      try {
        await this.redis.run((c) => c.seqFloor({ keys: room.keys, floor: after, ttlMs: this.options.history.seqTtlMs }));
      } catch (error) {
        this.logger.warn({ room: room.id, err: errorMessage(error) }, "could not raise the seq floor after a resubscribe");
      }
      if (room.held === undefined) void this.heal(room, after);
    }
  }

  /**
   * Schedules the delivery of every dirty room: at the end of this event-loop turn after a quiet
   * spell, else when WS_DELIVERY_BATCH_MS since the last delivery has passed. Under load, each
   * room's frames of the window reach each socket in one write, with one wake-up for all rooms.
   */
  private markDirty(room: LocalRoom): void {
    this.dirty.add(room);
    this.deliveries.request();
  }

  private flush(): void {
    for (const room of this.dirty) this.deliver(room);
    this.dirty.clear();
  }

  /** Writes the room's queued frames to its live members (one buffer, one write each); syncing members hold them. */
  private deliver(room: LocalRoom): void {
    const frames = room.queue;
    if (frames.length > 0) {
      room.queue = [];
      const now = Date.now();
      let firstSeq = Infinity;
      let lastSeq = -1;
      for (const frame of frames) {
        if (!isMessageFrame(frame)) continue;
        const { seq, ts } = messageSeqAndTs(frame, room.prefixLength);
        firstSeq = Math.min(firstSeq, seq);
        lastSeq = Math.max(lastSeq, seq);
        this.metrics.fanoutLatency.observe(Math.max(0, now - ts) / 1000);
      }
      const bytes = frameTextMessages(frames);
      let written = 0;
      for (const member of room.members) {
        if (member.state === "live") {
          // Just after a join, the subscription may still bring messages its replay already had.
          const own = member.replayedThrough >= firstSeq ? this.afterReplay(room, frames, member.replayedThrough) : bytes;
          if (member.replayedThrough >= 0 && lastSeq >= member.replayedThrough) member.replayedThrough = -1;
          if (own !== undefined && member.writeFramed(own)) written++;
        } else if (member.state === "syncing") {
          for (const frame of frames) member.pending.push(frame);
        }
      }
      this.metrics.wsMessagesOut.inc(written * frames.length);
    }
    if (room.activating.length > 0) {
      const activating = room.activating;
      room.activating = [];
      for (const connection of activating) this.activate(room, connection);
    }
  }

  /** The batch without the messages a member's replay already delivered; undefined when nothing is left. */
  private afterReplay(room: LocalRoom, frames: Buffer[], replayedThrough: number): Buffer | undefined {
    const rest = frames.filter((frame) => !isMessageFrame(frame) || messageSeqAndTs(frame, room.prefixLength).seq > replayedThrough);
    return rest.length > 0 ? frameTextMessages(rest) : undefined;
  }

  /** welcome, then the replay, then what arrived while syncing (messages after the join's seq; presence from the own join on). */
  private activate(room: LocalRoom, connection: Connection): void {
    const result = connection.syncResult;
    if (result === undefined || connection.state !== "syncing") return;
    const frames = [...result.replay];
    const ownJoin = Buffer.from(presenceJoinFrame(connection.userJson, connection.id));
    const pending = connection.pending;
    const joinIndex = pending.findIndex((frame) => frame.equals(ownJoin));
    pending.forEach((frame, index) => {
      if (isMessageFrame(frame)) {
        if (messageSeqAndTs(frame, room.prefixLength).seq > result.seq) frames.push(frame);
      } else if (index >= joinIndex) {
        frames.push(frame);
      }
    });
    connection.goLive(welcomeFrame(room.id, connection.id, this.options.instanceId, result.seq, result.recovered), frames, result.seq);
    this.metrics.wsMessagesOut.inc(frames.length);
  }
}
