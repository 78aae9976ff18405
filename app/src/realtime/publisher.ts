/**
 * Client messages on their way to Valkey, coalesced: this instance sends its queued messages at
 * most once every WS_PUBLISH_BATCH_MS, one append script per room, all in one pipeline. Each script
 * publishes its room's batch as one Valkey message. After a quiet spell (no send within the window)
 * a message goes out at the end of the event-loop turn; under load, messages wait for the rest of
 * the window and go together: fewer script runs, fewer published messages, fewer wake-ups and more
 * frames per socket write on every instance, for at most the window of added latency.
 *
 * Each message still gets its own seq (consecutive within a batch) and its own history entry. A
 * batch succeeds or fails as a whole: a failure rejects every message in it, so each sender is told
 * its message was not accepted. A room's batches are sent in order on one connection.
 */
import type { RedisConnections } from "../redis/connections";
import type { RoomKeys } from "../redis/keys";
import { MAX_APPEND_BATCH, type HistoryLimits } from "./room-log-scripts";
import { PacedRun } from "./paced-run";

export interface PublisherOptions {
  /** Least time between two sends (ms); 0: once per event-loop turn. */
  batchMs: number;
  history: HistoryLimits;
}

interface PendingMessage {
  tail: string;
  resolve(seq: number): void;
  reject(error: unknown): void;
}

interface RoomBatch {
  keys: RoomKeys;
  prefix: string;
  messages: PendingMessage[];
}

export class MessagePublisher {
  private batches = new Map<string, RoomBatch>();
  private readonly sends: PacedRun;

  constructor(
    private readonly redis: RedisConnections,
    private readonly options: PublisherOptions,
  ) {
    this.sends = new PacedRun(options.batchMs, () => this.sendAll());
  }

  /** Queues one message (its frame tail) for the room; resolves with its seq once it is in history and published. */
  append(keys: RoomKeys, prefix: string, tail: string): Promise<number> {
    let batch = this.batches.get(keys.channel);
    if (batch === undefined) {
      batch = { keys, prefix, messages: [] };
      this.batches.set(keys.channel, batch);
    }
    const queued = batch.messages;
    const seq = new Promise<number>((resolve, reject) => queued.push({ tail, resolve, reject }));
    this.sends.request();
    return seq;
  }

  /** Sends every queued message now (shutdown, so nothing accepted is left behind). */
  flush(): void {
    this.sends.runNow();
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
    this.redis.run((c) => c.appendMessages({ keys: batch.keys, framePrefix: batch.prefix, tails, limits: this.options.history })).then(
      (first) => messages.forEach((message, index) => message.resolve(first + index)),
      (error: unknown) => messages.forEach((message) => message.reject(error)),
    );
  }
}
