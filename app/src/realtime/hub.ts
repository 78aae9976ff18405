/**
 * The instance's rooms: which local connections are in which room, and the frames between them and
 * the store. The hub holds no Valkey state of its own: it moves client messages to the room log
 * (room-log.ts), joins and leaves through presence (presence.ts), and fans the frames of each room's
 * channel out to local sockets.
 *
 * Every frame of a room reaches this instance through its channel, in the order the room's scripts
 * ran (the sender's own instance included), so all members see one order. Frames that arrive within
 * one delivery (one event-loop turn, or the WS_DELIVERY_BATCH_MS window under load) are framed once
 * per room and written with one write per socket.
 * Message seqs are checked on arrival: a duplicate is dropped, a gap (missed while the subscription
 * was away) is filled from history before later frames are delivered.
 */
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { errorMessage } from "../errors";
import { CLOSE_CODES, type Connection } from "./connection";
import { PacedRun } from "./paced-run";
import type { PresenceService } from "./presence";
import type { RoomLog } from "./room-log";
import {
  frameTextMessages,
  isMessageFrame,
  messageFramePrefix,
  messageFrameTail,
  messageSeqAndTs,
  messageSeqOfText,
  welcomeFrame,
} from "./frames";

export interface HubOptions {
  instanceId: string;
  /** HISTORY_REPLAY_BATCH: history entries read per page when filling a gap. */
  replayBatch: number;
  /**
   * History entries per replay page: HISTORY_REPLAY_BATCH, fewer when that many frames of up to
   * WS_MAX_FRAME_BYTES could pass WS_REPLAY_HIGH_WATER_BYTES (see replayPageEntries).
   */
  replayPageEntries: number;
  /** WS_DELIVERY_BATCH_MS: least time between two deliveries to this instance's sockets (0: one per event-loop turn). */
  deliveryBatchMs: number;
  /** The realtime epoch's base (see RoomLogOptions.seqFloor); none: 0. */
  seqFloor?: () => number;
}

/** Attempts to fill a gap from history, each after waiting up to HEAL_READY_TIMEOUT_MS for the command connection. */
const HEAL_ATTEMPTS = 5;
const HEAL_READY_TIMEOUT_MS = 2000;

/** One room with members on this instance. */
class LocalRoom {
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
  /** The channel subscription; undefined before the first join and after a failed attempt (the next join tries again). */
  subscribed: Promise<void> | undefined;
  /** The last subscribe attempt failed: it may have left its listener registered, to drop before the next one. */
  subscribeFailed = false;

  constructor(readonly id: string) {
    this.prefixLength = Buffer.byteLength(messageFramePrefix(id));
  }
}

export class Hub {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly dirty = new Set<LocalRoom>();
  /** Delivers the dirty rooms: once per event-loop turn, or at most once per WS_DELIVERY_BATCH_MS under load. */
  private readonly deliveries: PacedRun;

  constructor(
    private readonly log: RoomLog,
    private readonly presence: PresenceService,
    private readonly options: HubOptions,
    private readonly logger: Logger,
    private readonly metrics: AppMetrics,
  ) {
    this.deliveries = new PacedRun(options.deliveryBatchMs, () => this.flush());
    log.onResubscribed(() => void this.healAll());
  }

  /**
   * Adds the connection to its room: subscribe (first local member), join presence (which reads the
   * room's seq atomically with the join event), send the welcome, stream history after `since` page
   * by page as the socket drains, then go live at the next flush (with what arrived meanwhile).
   * Throws when Valkey is unavailable.
   */
  async join(connection: Connection, since: number | undefined): Promise<void> {
    const room = this.roomFor(connection.roomId);
    room.members.add(connection);
    this.metrics.wsConnections.inc();
    await this.subscription(room);
    // Closed while subscribing: its leave has run (or is waiting for this join); joining now would add it back.
    if (connection.state === "closed") return;
    const reply = await this.presence.join(
      { roomId: room.id, connectionId: connection.id, userJson: connection.userJson },
      { since: since ?? -1, batch: this.options.replayPageEntries, seqFloor: this.options.seqFloor?.() ?? 0 },
    );
    if (reply === undefined) return;
    room.baseSeq = Math.max(room.baseSeq, reply.seq);
    const recovered = since !== undefined && reply.recoverable;
    if (since !== undefined) this.metrics.recoveries.inc({ result: recovered ? "recovered" : "not_recovered" });
    // A since from an earlier realtime epoch (another region's Valkey) or beyond the room's seq: never held here.
    const historyLost = since !== undefined && !recovered && (since > reply.seq || since < (this.options.seqFloor?.() ?? 0));
    connection.sendWelcome(welcomeFrame(room.id, connection.id, this.options.instanceId, reply.seq, recovered, historyLost));
    if (recovered && !(await this.streamReplay(room, connection, since as number, reply.seq, reply.entries))) return;
    connection.finishSync({ seq: reply.seq, recovered, joinFrame: Buffer.from(reply.joinFrame) });
    room.activating.push(connection);
    this.markDirty(room);
  }

  /**
   * Writes the entries with seq in (since, through] to the connection, a page at a time: `first` (read
   * by the join script), then pages read only once the socket has drained below the high-water mark.
   * Memory per connection is one page plus that mark, however much history there is and whether the
   * client reads or not. Resolves true when the replay is complete; false when the connection is gone,
   * was closed as a slow consumer, or history was trimmed under the replay (closed with 4001 then:
   * what was written is a gap-free prefix; the client resumes from its last seq).
   */
  private async streamReplay(room: LocalRoom, connection: Connection, since: number, through: number, first: string[]): Promise<boolean> {
    let cursor = since;
    let page = first;
    for (;;) {
      const frames: Buffer[] = [];
      for (const entry of page) {
        const seq = messageSeqOfText(entry, room.prefixLength);
        if (seq > through) break;
        frames.push(Buffer.from(entry));
        cursor = seq;
      }
      if (frames.length > 0 && !(await connection.writeReplayPage(frameTextMessages(frames)))) return false;
      if (cursor >= through) return true;
      if (connection.state === "closed") return false;
      const next = await this.log.page(room.id, cursor, this.options.replayPageEntries);
      // Trimming removes the oldest entries: if the oldest left is past cursor + 1, something needed is gone.
      if (next.oldest < 0 || next.oldest > cursor + 1 || next.entries.length === 0) {
        this.logger.info({ connection: connection.id, room: room.id, after: cursor, through }, "history trimmed under a replay");
        connection.close(CLOSE_CODES.replayIncomplete, "replay_incomplete");
        return false;
      }
      page = next.entries;
    }
  }

  /** Removes the connection; the last local member unsubscribes the room. Its presence is removed once its join has settled. */
  async leave(connection: Connection): Promise<void> {
    if (!connection.markClosed()) return;
    const room = this.rooms.get(connection.roomId);
    if (room !== undefined && room.members.delete(connection)) {
      this.metrics.wsConnections.dec();
      if (room.members.size === 0) {
        this.rooms.delete(room.id);
        this.dirty.delete(room);
        this.log.unsubscribe(room.id).catch((error: unknown) => {
          this.logger.warn({ room: room.id, err: errorMessage(error) }, "unsubscribe failed");
        });
      }
    }
    await this.presence.leave({ roomId: connection.roomId, connectionId: connection.id, userJson: connection.userJson }, connection.joined);
  }

  /**
   * Hands a client message to the room log, which appends it to the room's history and publishes it
   * with the room's other messages of the same publish window; resolves with its seq.
   */
  publish(connection: Connection, data: unknown): Promise<number> {
    return this.log.append(connection.roomId, messageFrameTail(connection.userJson, data));
  }

  /** Heartbeat: pings every local socket, terminating those that did not answer the previous ping. */
  pingSockets(): void {
    for (const room of this.rooms.values()) {
      for (const connection of room.members) {
        if (!connection.ping()) this.metrics.heartbeatTimeouts.inc();
      }
    }
  }

  /**
   * Closes every local connection with `code` (shutdown: 1012, so clients reconnect elsewhere),
   * removes their presence, and terminates sockets whose close handshake is not done after `graceMs`.
   */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    // Messages already accepted are appended and published before their senders are closed.
    this.log.flush();
    const connections = [...this.rooms.values()].flatMap((room) => [...room.members]);
    const closed = connections.map((connection) => connection.whenSocketClosed());
    for (const connection of connections) connection.close(code, reason);
    await Promise.all(connections.map((connection) => this.leave(connection)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(closed), new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    for (const connection of connections) connection.terminate();
  }

  private roomFor(roomId: string): LocalRoom {
    let room = this.rooms.get(roomId);
    if (room === undefined) {
      room = new LocalRoom(roomId);
      this.rooms.set(roomId, room);
    }
    return room;
  }

  /**
   * The room's channel subscription, started by its first join. A failed attempt fails the joins
   * waiting for it; the next join starts a fresh one (after dropping what the failed one may have
   * registered, so that frames never reach the room twice).
   */
  private subscription(room: LocalRoom): Promise<void> {
    if (room.subscribed !== undefined) return room.subscribed;
    const onFrame = (frame: Buffer) => this.onFrame(room, frame, true);
    const subscribe = () => this.log.subscribe(room.id, onFrame);
    const attempt = room.subscribeFailed
      ? this.log
          .unsubscribe(room.id)
          .catch((error: unknown) => {
            this.logger.warn({ room: room.id, err: errorMessage(error) }, "unsubscribe before a new subscribe attempt failed");
          })
          .then(subscribe)
      : subscribe();
    room.subscribed = attempt;
    room.subscribeFailed = false;
    // A failed subscribe surfaces in join(); this handler also keeps it from being an unhandled rejection.
    attempt.catch(() => {
      if (room.subscribed !== attempt) return;
      room.subscribed = undefined;
      room.subscribeFailed = true;
    });
    return attempt;
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
        await this.log.ready(HEAL_READY_TIMEOUT_MS);
        for await (const { seq, frame } of this.log.entriesAfter(room.id, cursor, this.options.replayBatch)) {
          if (before !== undefined && seq >= before) break;
          cursor = seq;
          if (seq > room.lastSeq) {
            room.lastSeq = seq;
            room.queue.push(Buffer.from(frame));
            this.metrics.gapHeals.inc();
          }
        }
        break;
      } catch (error) {
        const last = attempt === HEAL_ATTEMPTS;
        this.logger.warn(
          { room: room.id, attempt, err: errorMessage(error) },
          last ? "could not fill a gap from history; continuing without it" : "filling a gap from history failed; retrying",
        );
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
    await this.log.ready(HEAL_READY_TIMEOUT_MS);
    for (const room of [...this.rooms.values()]) {
      const after = Math.max(room.lastSeq, room.baseSeq);
      if (after < 0) continue;
      try {
        await this.log.raiseSeqFloor(room.id, after);
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
          member.deliveredThrough(lastSeq);
          if (own !== undefined && member.writeFramed(own)) written++;
        } else if (member.state === "syncing") {
          for (const frame of frames) member.hold(frame);
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

  /** What arrived while syncing (messages after the join's seq; presence from the own join on): the welcome and replay are out. */
  private activate(room: LocalRoom, connection: Connection): void {
    const result = connection.syncResult;
    if (result === undefined || connection.state !== "syncing") return;
    const frames: Buffer[] = [];
    const held = connection.heldFrames;
    const joinIndex = held.findIndex((frame) => frame.equals(result.joinFrame));
    held.forEach((frame, index) => {
      if (isMessageFrame(frame)) {
        if (messageSeqAndTs(frame, room.prefixLength).seq > result.seq) frames.push(frame);
      } else if (index >= joinIndex) {
        frames.push(frame);
      }
    });
    connection.goLive(frames, result.seq);
    this.metrics.wsMessagesOut.inc(frames.length);
  }
}
