/**
 * Client messages on their way to Valkey, coalesced per room: this instance runs at most one append
 * script per room every WS_PUBLISH_BATCH_MS. A message for a room that was quiet for that long goes
 * out at the end of the event-loop turn (with every other room's, in one pipeline); messages for a
 * busy room wait for the rest of the window and go out together, as one script run that publishes
 * them as one Valkey message. So a quiet room pays no added latency, and a busy one pays at most
 * the window for fewer script runs, fewer published messages and more frames per socket write on
 * every instance.
 *
 * Each message still gets its own seq (consecutive within a batch) and its own history entry. A
 * batch succeeds or fails as a whole: a failure rejects every message in it, so each sender is told
 * its message was not accepted. Batches of one room are sent in order on one connection.
 */
import type { RedisConnections } from "../redis/connections";
import type { RoomKeys } from "../redis/keys";
import { MAX_APPEND_BATCH, type HistoryLimits } from "../redis/scripts";

export interface PublisherOptions {
  /** Least time between two append scripts of one room from this instance (ms); 0: one per event-loop turn. */
  batchMs: number;
  history: HistoryLimits;
}

interface PendingMessage {
  tail: string;
  resolve(seq: number): void;
  reject(error: unknown): void;
}

/** One room's coalescing state. */
interface RoomBatch {
  keys: RoomKeys;
  prefix: string;
  messages: PendingMessage[];
  /** When its last append was sent (performance.now()). */
  sentAt: number;
  /** Waiting for the end of its window, or for the end of the event-loop turn. */
  scheduled: boolean;
}

/** How often rooms that went quiet are forgotten. */
const FORGET_QUIET_ROOMS_MS = 10_000;

export class MessagePublisher {
  private readonly rooms = new Map<string, RoomBatch>();
  /** Rooms to send at the end of this event-loop turn. */
  private readonly due: RoomBatch[] = [];
  private lastForget = performance.now();

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: PublisherOptions,
  ) {}

  /** Queues one message (its frame tail) for the room; resolves with its seq once it is in history and published. */
  append(keys: RoomKeys, prefix: string, tail: string): Promise<number> {
    let room = this.rooms.get(keys.channel);
    if (room === undefined) {
      room = { keys, prefix, messages: [], sentAt: -Infinity, scheduled: false };
      this.rooms.set(keys.channel, room);
    }
    const queued = room.messages;
    const seq = new Promise<number>((resolve, reject) => queued.push({ tail, resolve, reject }));
    if (!room.scheduled) this.schedule(room);
    return seq;
  }

  /** Sends every queued message now (shutdown, so nothing accepted is left behind). */
  flush(): void {
    for (const room of this.rooms.values()) this.send(room);
  }

  private schedule(room: RoomBatch): void {
    room.scheduled = true;
    const wait = room.sentAt + this.options.batchMs - performance.now();
    if (wait > 0) {
      setTimeout(() => this.send(room), wait);
      return;
    }
    this.due.push(room);
    if (this.due.length === 1) setImmediate(() => this.sendDue());
  }

  private sendDue(): void {
    for (const room of this.due.splice(0)) this.send(room);
    const now = performance.now();
    if (now - this.lastForget >= FORGET_QUIET_ROOMS_MS) {
      this.lastForget = now;
      for (const [channel, room] of this.rooms) {
        if (!room.scheduled && now - room.sentAt >= this.options.batchMs) this.rooms.delete(channel);
      }
    }
  }

  /** Sends the room's queued messages (in script-sized batches); a no-op when they were already sent. */
  private send(room: RoomBatch): void {
    room.scheduled = false;
    if (room.messages.length === 0) return;
    const messages = room.messages;
    room.messages = [];
    room.sentAt = performance.now();
    for (let start = 0; start < messages.length; start += MAX_APPEND_BATCH) {
      const batch = messages.slice(start, start + MAX_APPEND_BATCH);
      const tails = batch.map((message) => message.tail);
      this.redis.run((c) => c.appendMessages(room.keys, room.prefix, tails, this.options.history)).then(
        (first) => batch.forEach((message, index) => message.resolve(first + index)),
        (error: unknown) => batch.forEach((message) => message.reject(error)),
      );
    }
  }
}
