/**
 * One client WebSocket: its identity, its state in the room (syncing → live → closed), the frames
 * held for it while it syncs, and the raw writes of pre-framed room batches. A replay is written
 * page by page, each page only once the socket's buffer is below the replay high-water mark, so a
 * client that does not read holds at most that much (plus one page) of this process's memory.
 */
import type { Socket } from "node:net";
import WebSocket from "ws";
import type { User } from "../auth";
import { errorFrame, frameTextMessages, type ErrorCode, userJson } from "./frames";
import { TokenBucket } from "./rate-limiter";

export type ConnectionState = "syncing" | "live" | "closed";

/** Application close codes (1000-1015 are the protocol's). */
export const CLOSE_CODES = {
  normal: 1000,
  /** The frame exceeded WS_MAX_FRAME_BYTES (sent by ws itself). */
  frameTooLarge: 1009,
  internalError: 1011,
  /** The instance is shutting down: reconnect (to another instance) and resume with since=. */
  serviceRestart: 1012,
  /** A dependency (Valkey) is unavailable: reconnect later. */
  tryAgainLater: 1013,
  /** The client did not read fast enough: more than WS_MAX_BUFFERED_BYTES waited in its buffer (or was held for it while it synced). */
  slowConsumer: 4000,
  /** History was trimmed while the replay was streaming: reconnect with since=<the last seq received>. */
  replayIncomplete: 4001,
} as const;

/** How long a slow consumer gets to read up to the close frame before its socket is dropped. */
const SLOW_CONSUMER_GRACE_MS = 5000;

/** The outcome of syncing, applied when the connection goes live (the welcome and the replay are already sent). */
export interface SyncResult {
  seq: number;
  recovered: boolean;
  /** The connection's own presence join frame: presence frames held before it are not its business. */
  joinFrame: Buffer;
}

export interface ConnectionLimits {
  maxMessagesPerSecond: number;
  /** WS_MAX_BUFFERED_BYTES: more than this in the send buffer, or held while syncing, is a slow consumer (4000). */
  maxBufferedBytes: number;
  /** WS_REPLAY_HIGH_WATER_BYTES: a replay page is written only when the send buffer holds less than this. */
  replayHighWaterBytes: number;
}

export class Connection {
  private currentState: ConnectionState = "syncing";
  /** Room frames received while syncing, in order. */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private closedAsSlowConsumer = false;
  /** Set when syncing is done; applied by the room at its next flush. */
  private synced: SyncResult | undefined;
  /**
   * Seq its replay ran through: messages up to it may still arrive on the subscription after the join
   * script answered, and must not be delivered again. -1 once live delivery has passed it.
   */
  private replayThrough = -1;
  /** Cleared by each heartbeat, set by each pong. */
  private alive = true;
  /** Resolves when the join (presence + replay) has finished, successfully or not. */
  private joining: Promise<void> = Promise.resolve();
  readonly userJson: string;
  readonly limiter: TokenBucket;
  private lastRateLimitNotice = 0;

  constructor(
    readonly id: string,
    readonly roomId: string,
    readonly user: User,
    private readonly ws: WebSocket,
    /** The TCP socket under `ws` (from the upgrade request); pre-framed batches are written to it directly. */
    private readonly socket: Socket,
    private readonly limits: ConnectionLimits,
    private readonly onSlowConsumer: () => void,
  ) {
    this.userJson = userJson(user);
    this.limiter = new TokenBucket(limits.maxMessagesPerSecond);
  }

  /** syncing (joining, replaying) → live (receives the room's frames) → closed. */
  get state(): ConnectionState {
    return this.currentState;
  }

  /** Marks the connection closed; false if it already was. */
  markClosed(): boolean {
    if (this.currentState === "closed") return false;
    this.currentState = "closed";
    return true;
  }

  /** Records the join in progress (already handling its own failure); `joined` resolves when it has finished. */
  trackJoin(join: Promise<void>): void {
    this.joining = join;
  }

  get joined(): Promise<void> {
    return this.joining;
  }

  /**
   * Keeps a room frame that arrives while the connection syncs, for delivery when it goes live. A
   * client whose replay takes so long that more than WS_MAX_BUFFERED_BYTES pile up is a slow consumer.
   */
  hold(frame: Buffer): void {
    if (this.currentState !== "syncing") return;
    this.heldBytes += frame.length;
    if (this.heldBytes > this.limits.maxBufferedBytes) {
      this.held = [];
      this.closeSlowConsumer();
      return;
    }
    this.held.push(frame);
  }

  /** The frames held while syncing, in arrival order. */
  get heldFrames(): readonly Buffer[] {
    return this.held;
  }

  /** Records the outcome of syncing; the room applies it (goLive) at its next flush. */
  finishSync(result: SyncResult): void {
    this.synced = result;
  }

  get syncResult(): SyncResult | undefined {
    return this.synced;
  }

  /** Seq its replay ran through; -1 when live delivery has passed it (nothing left to skip). */
  get replayedThrough(): number {
    return this.replayThrough;
  }

  /** Live delivery reached `seq`: once it is at or past the replay, nothing needs skipping any more. */
  deliveredThrough(seq: number): void {
    if (this.replayThrough >= 0 && seq >= this.replayThrough) this.replayThrough = -1;
  }

  /** A pong arrived. */
  markAlive(): void {
    this.alive = true;
  }

  /**
   * Heartbeat: terminates the socket when the previous ping got no pong (returns false), else pings
   * and returns true.
   */
  ping(): boolean {
    if (!this.alive) {
      this.ws.terminate();
      return false;
    }
    this.alive = false;
    this.ws.ping();
    return true;
  }

  /** Resolves once the socket is closed (at once if it is). */
  whenSocketClosed(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) resolve();
      else this.ws.once("close", () => resolve());
    });
  }

  /** Drops the socket without a close handshake. */
  terminate(): void {
    this.ws.terminate();
  }

  /**
   * Writes pre-framed WebSocket messages. Returns false (and closes the connection) when the
   * client is a slow consumer; the bytes are then not written.
   */
  writeFramed(bytes: Buffer): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return false;
    if (this.socket.writableLength > this.limits.maxBufferedBytes) {
      this.closeSlowConsumer();
      return false;
    }
    this.socket.write(bytes);
    return true;
  }

  /** The welcome frame, first of all (the replay and the held frames follow it). */
  sendWelcome(welcome: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(welcome);
  }

  /**
   * Writes one page of the replay (pre-framed), then waits until the socket's buffer is back under
   * WS_REPLAY_HIGH_WATER_BYTES (or the socket closed). Resolves false when the connection is gone or
   * was closed as a slow consumer: the replay stops there.
   */
  async writeReplayPage(bytes: Buffer): Promise<boolean> {
    if (this.currentState === "closed" || !this.writeFramed(bytes)) return false;
    if (this.socket.writableLength >= this.limits.replayHighWaterBytes) await this.drained();
    return this.state !== "closed" && this.ws.readyState === WebSocket.OPEN;
  }

  /** Resolves on the socket's next "drain" or its close. A client that never reads is ended by the heartbeat. */
  private drained(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /** Sends the frames held while syncing (after the replay), then goes live. */
  goLive(frames: Buffer[], replayedThrough: number): void {
    if (this.currentState !== "syncing") return;
    this.currentState = "live";
    this.replayThrough = replayedThrough;
    this.held = [];
    this.heldBytes = 0;
    this.synced = undefined;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    if (frames.length > 0) this.writeFramed(frameTextMessages(frames));
  }

  sendError(code: ErrorCode, message: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(errorFrame(code, message));
  }

  /** At most one rate_limited error per second, so a flood does not get a flood of errors back. */
  noticeRateLimited(limit: number): void {
    const now = Date.now();
    if (now - this.lastRateLimitNotice < 1000) return;
    this.lastRateLimitNotice = now;
    this.sendError("rate_limited", `More than ${limit} messages per second: message dropped`);
  }

  private closeSlowConsumer(): void {
    if (this.closedAsSlowConsumer) return;
    this.closedAsSlowConsumer = true;
    this.onSlowConsumer();
    this.close(CLOSE_CODES.slowConsumer, "slow_consumer");
  }

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    // A slow consumer may never read the close frame: do not keep its buffer for ws's 30 s close timeout.
    if (code === CLOSE_CODES.slowConsumer) setTimeout(() => this.ws.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }
}
