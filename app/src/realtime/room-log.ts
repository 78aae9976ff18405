/**
 * The room log: each room's message sequence, its history, and its channel (room:{id}:seq,
 * room:{id}:history, room:{id}:events) — the one module that reads and writes them.
 *
 * Appending: client messages on their way to Valkey are coalesced. This instance sends its queued
 * messages at most once every WS_PUBLISH_BATCH_MS, one append script per room, all in one pipeline.
 * Each script gives its messages consecutive seqs and their own history entries, and publishes the
 * room's batch as one Valkey message. After a quiet spell (no send within the window) a message goes
 * out at the end of the event-loop turn; under load, messages wait for the rest of the window and go
 * together: fewer script runs, fewer published messages, fewer wake-ups and more frames per socket
 * write on every instance, for at most the window of added latency. A batch succeeds or fails as a
 * whole: a failure rejects every message in it, so each sender is told its message was not accepted.
 * A room's batches are sent in order on one connection.
 *
 * Reading: the channel delivers each published frame in the order the room's scripts ran (a batch is
 * split back into its frames); history is read in pages by seq.
 */
import type { ValkeyConnections } from "../valkey/connections";
import { roomKey } from "../valkey/keys";
import { forEachPublishedFrame, messageFramePrefix, messageSeqOfText } from "./frames";
import { PacedRun } from "./paced-run";
import { MAX_APPEND_BATCH, type HistoryLimits, type HistoryPage, type ROOM_LOG_SCRIPTS, type RoomLogKeys } from "./room-log-scripts";

export function roomLogKeys(roomId: string): RoomLogKeys {
  return {
    seq: roomKey(roomId, "seq"),
    history: roomKey(roomId, "history"),
    historyBytes: roomKey(roomId, "history-bytes"),
    channel: roomKey(roomId, "events"),
  };
}

export interface RoomLogOptions {
  history: HistoryLimits;
  /** WS_PUBLISH_BATCH_MS: least time between two sends of accepted messages (0: once per event-loop turn). */
  publishBatchMs: number;
  /**
   * The realtime epoch's base (db/region-role.ts; 0 without REGION_ROLE=auto): every room's counter is raised to at
   * least this before it issues a seq, so a region never reissues seqs another region's Valkey issued before it was lost.
   */
  seqFloor?: () => number;
}

/** One history entry: a message frame and its seq. */
export interface LogEntry {
  seq: number;
  frame: string;
}

interface PendingMessage {
  tail: string;
  resolve(seq: number): void;
  reject(error: unknown): void;
}

interface RoomBatch {
  keys: RoomLogKeys;
  prefix: string;
  messages: PendingMessage[];
}

/** Length of a room's message frame prefix (room ids are ASCII, so characters are bytes). */
function prefixLength(roomId: string): number {
  return messageFramePrefix(roomId).length;
}

export class RoomLog {
  private batches = new Map<string, RoomBatch>();
  private readonly sends: PacedRun;

  constructor(
    private readonly valkey: ValkeyConnections<typeof ROOM_LOG_SCRIPTS>,
    private readonly options: RoomLogOptions,
  ) {
    this.sends = new PacedRun(options.publishBatchMs, () => this.sendAll());
  }

  /** Queues one message (its frame tail, see frames.ts) for the room; resolves with its seq once it is in history and published. */
  append(roomId: string, tail: string): Promise<number> {
    let batch = this.batches.get(roomId);
    if (batch === undefined) {
      batch = { keys: roomLogKeys(roomId), prefix: messageFramePrefix(roomId), messages: [] };
      this.batches.set(roomId, batch);
    }
    const queued = batch.messages;
    const seq = new Promise<number>((resolve, reject) => queued.push({ tail, resolve, reject }));
    this.sends.request();
    return seq;
  }

  /** The current realtime epoch's base (0: none). */
  seqFloor(): number {
    return this.options.seqFloor?.() ?? 0;
  }

  /** Sends every queued message now (shutdown, so nothing accepted is left behind). */
  flush(): void {
    this.sends.runNow();
  }

  /** Receives every frame published on the room's channel, one at a time, in order. */
  subscribe(roomId: string, onFrame: (frame: Buffer) => void): Promise<void> {
    return this.valkey.subscribe(roomLogKeys(roomId).channel, (payload) => forEachPublishedFrame(payload, onFrame));
  }

  unsubscribe(roomId: string): Promise<void> {
    return this.valkey.unsubscribe(roomLogKeys(roomId).channel);
  }

  /** After the subscriptions came back (reconnect or recycle): frames published meanwhile may be missing. */
  onResubscribed(listener: () => void): void {
    this.valkey.on("resubscribed", listener);
  }

  /** Resolves true once the log can be read and written (at once if it can), false after `timeoutMs`. */
  ready(timeoutMs: number): Promise<boolean> {
    return this.valkey.commandReady(timeoutMs);
  }

  /** One page of history: up to `limit` entries after `after`, oldest first, and the oldest seq still held (-1: none). */
  page(roomId: string, after: number, limit: number): Promise<HistoryPage> {
    return this.valkey.run((c) => c.historyAfter({ keys: roomLogKeys(roomId), after, limit }));
  }

  /** The entries after `after` still in history, oldest first, read in pages of `pageSize` as the caller iterates. */
  async *entriesAfter(roomId: string, after: number, pageSize: number): AsyncGenerator<LogEntry> {
    const keys = roomLogKeys(roomId);
    const length = prefixLength(roomId);
    let cursor = after;
    for (;;) {
      const page = await this.valkey.run((c) => c.historyAfter({ keys, after: cursor, limit: pageSize }));
      for (const frame of page.entries) {
        cursor = messageSeqOfText(frame, length);
        yield { seq: cursor, frame };
      }
      if (page.entries.length < pageSize) return;
    }
  }

  /**
   * Raises the room's seq counter to at least `floor`: after a Valkey failover with asynchronous
   * replication the new primary may be behind what clients already saw. Resolves with the counter.
   */
  raiseSeqFloor(roomId: string, floor: number): Promise<number> {
    const atLeast = Math.max(floor, this.seqFloor());
    return this.valkey.run((c) => c.seqFloor({ keys: roomLogKeys(roomId), floor: atLeast, ttlMs: this.options.history.seqTtlMs }));
  }

  private sendAll(): void {
    const batches = this.batches;
    this.batches = new Map();
    for (const batch of batches.values()) {
      for (let start = 0; start < batch.messages.length; start += MAX_APPEND_BATCH) {
        this.send(batch, batch.messages.slice(start, start + MAX_APPEND_BATCH));
      }
    }
  }

  private send(batch: RoomBatch, messages: PendingMessage[]): void {
    const tails = messages.map((message) => message.tail);
    this.valkey
      .run((c) =>
        c.appendMessages({ keys: batch.keys, framePrefix: batch.prefix, tails, limits: this.options.history, seqFloor: this.seqFloor() }),
      )
      .then(
        (first) => messages.forEach((message, index) => message.resolve(first + index)),
        (error: unknown) => messages.forEach((message) => message.reject(error)),
      );
  }
}
