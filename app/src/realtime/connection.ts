/**
 * One client WebSocket: its identity, its state in the room (syncing → live → closed), the frames
 * held for it while it syncs, and the raw writes of pre-framed room batches.
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
  /** The client did not read fast enough: more than WS_MAX_BUFFERED_BYTES waited in its buffer. */
  slowConsumer: 4000,
} as const;

/** How long a slow consumer gets to read up to the close frame before its socket is dropped. */
const SLOW_CONSUMER_GRACE_MS = 5000;

/** The outcome of syncing, applied when the connection goes live. */
export interface SyncResult {
  seq: number;
  recovered: boolean;
  /** Not recovered because the messages after `since` are gone for good (frames.ts welcomeFrame). */
  historyLost?: boolean;
  replay: Buffer[];
  /** The connection's own presence join frame: presence frames held before it are not its business. */
  joinFrame: Buffer;
}

export class Connection {
  private currentState: ConnectionState = "syncing";
  /** Room frames received while syncing, in order. */
  private held: Buffer[] = [];
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
    maxMessagesPerSecond: number,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: () => void,
  ) {
    this.userJson = userJson(user);
    this.limiter = new TokenBucket(maxMessagesPerSecond);
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

  /** Keeps a room frame that arrives while the connection syncs, for delivery when it goes live. */
  hold(frame: Buffer): void {
    if (this.currentState === "syncing") this.held.push(frame);
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
    if (this.socket.writableLength > this.maxBufferedBytes) {
      this.onSlowConsumer();
      this.close(CLOSE_CODES.slowConsumer, "slow_consumer");
      return false;
    }
    this.socket.write(bytes);
    return true;
  }

  /** Sends welcome, replay and the frames held while syncing, then goes live. */
  goLive(welcome: string, frames: Buffer[], replayedThrough: number): void {
    if (this.currentState !== "syncing") return;
    this.currentState = "live";
    this.replayThrough = replayedThrough;
    this.held = [];
    this.synced = undefined;
    if (this.ws.readyState !== WebSocket.OPEN) return;
    this.ws.send(welcome);
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

  close(code: number, reason: string): void {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code, reason);
    // A slow consumer may never read the close frame: do not keep its buffer for ws's 30 s close timeout.
    if (code === CLOSE_CODES.slowConsumer) setTimeout(() => this.ws.terminate(), SLOW_CONSUMER_GRACE_MS).unref();
  }
}
