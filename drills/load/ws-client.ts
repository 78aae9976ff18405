/**
 * A drill's WebSocket client, behaving like a real GoMeet client: it joins a room through the load
 * balancer, sends sequenced messages one at a time (the next only once its own message came back
 * through the room: that echo is the acknowledgement), reconnects with `since=<last seq>` after any
 * disconnect, and sends a message again only if it did not arrive meanwhile (neither in the replay
 * nor live). It records everything the drill needs to judge: every message received (to count
 * losses and duplicates), every acknowledgement, and every failure it noticed.
 */
import WebSocket from "ws";
import { closeWebSocket } from "./close-websocket";

export type FailureKind = "close" | "refused" | "error-frame" | "ack-timeout" | "replay-timeout";

export interface ClientFailure {
  at: number;
  kind: FailureKind;
  detail: string;
}

export interface Ack {
  n: number;
  /** When the acknowledged copy was (re)sent. */
  sentAt: number;
  ackAt: number;
  seq: number;
}

export interface DrillClientOptions {
  /** The load balancer, http://host:port. */
  baseUrl: string;
  room: string;
  token: string;
  /** Unique per client; also the JWT's subject. */
  clientId: string;
  sendIntervalMs: number;
  /** No acknowledgement within this long: the connection is considered dead and replaced. */
  ackTimeoutMs: number;
  /** After a reconnect, how long to wait for a late copy of the unacknowledged message before sending it again. */
  resendGraceMs: number;
}

/** The payload of a drill message: client id and its message number. */
export interface DrillMessage {
  c: string;
  n: number;
}

/** A received message's identity: `<client>#<n>`. */
export const messageKey = (m: DrillMessage): string => `${m.c}#${m.n}`;

function asDrillMessage(data: unknown): DrillMessage | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { c, n } = data as Record<string, unknown>;
  return typeof c === "string" && typeof n === "number" ? { c, n } : undefined;
}

interface Pending {
  n: number;
  sentAt: number;
  sends: number;
}

const REPLAY_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 1000;
const FOREIGN_KEPT = 20;

export class DrillClient {
  readonly failures: ClientFailure[] = [];
  readonly acks: Ack[] = [];
  /** Message key → the seqs it arrived with (more than one entry: delivered more than once). */
  readonly received = new Map<string, number[]>();
  /** Message frames that are not drill messages of this room (kept up to FOREIGN_KEPT), and their count. */
  readonly foreign: string[] = [];
  foreignCount = 0;
  /** Instance id from each welcome, in order. */
  readonly instances: string[] = [];
  /** Each welcome: when, the instance, the `since` the connection asked for, the room's seq it was told, whether it recovered. */
  readonly welcomes: Array<{ at?: number; instance: string; since: number | undefined; seq: number; recovered: boolean }> = [];
  /** The room's seq when this client first joined: it expects every message after it. */
  joinSeq: number | undefined;
  lastSeq = -1;
  /** Messages sent again after a reconnect or an error (the first copy never arrived). */
  resends = 0;

  private ws: WebSocket | undefined;
  /** The `since` the current connection asked for. */
  private since: number | undefined;
  private live = false;
  private welcome: { seq: number; recovered: boolean } | undefined;
  private pending: Pending | undefined;
  private nextN = 1;
  private sending = false;
  private closing = false;
  private reconnectAttempt = 0;
  private tick: NodeJS.Timeout | undefined;
  private replayTimer: NodeJS.Timeout | undefined;
  private resendTimer: NodeJS.Timeout | undefined;
  private liveWaiters: Array<() => void> = [];

  constructor(readonly options: DrillClientOptions) {}

  get id(): string {
    return this.options.clientId;
  }

  get isLive(): boolean {
    return this.live;
  }

  /** The instance of the current (or last) connection. */
  get instance(): string | undefined {
    return this.instances[this.instances.length - 1];
  }

  /** Message numbers sent and never acknowledged (at most one: the client waits for each ack). */
  get unacknowledged(): DrillMessage[] {
    return this.pending === undefined ? [] : [{ c: this.id, n: this.pending.n }];
  }

  /** Connects; resolves once the first welcome arrived (rejects after `timeoutMs`). */
  async connect(timeoutMs = 10_000): Promise<void> {
    this.open();
    this.tick = setInterval(() => this.onTick(), this.options.sendIntervalMs);
    await this.waitLive(timeoutMs);
  }

  startSending(): void {
    this.sending = true;
  }

  /** Stops sending new messages; resolves once the last one is acknowledged, or false after `timeoutMs`. */
  async stopSending(timeoutMs: number): Promise<boolean> {
    this.sending = false;
    const deadline = Date.now() + timeoutMs;
    while (this.pending !== undefined && Date.now() < deadline) await sleep(20);
    return this.pending === undefined;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.sending = false;
    for (const timer of [this.tick, this.replayTimer, this.resendTimer]) if (timer !== undefined) clearTimeout(timer);
    await closeWebSocket(this.ws, "drill over");
  }

  /** Resolves once the client is live (welcomed, replay complete). */
  waitLive(timeoutMs: number): Promise<void> {
    if (this.live) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.liveWaiters = this.liveWaiters.filter((w) => w !== wake);
        const last = this.failures[this.failures.length - 1];
        reject(
          new Error(
            `client ${this.id}: not connected to room ${this.options.room} after ${timeoutMs} ms${last ? ` (last failure: ${last.kind} ${last.detail})` : ""}`,
          ),
        );
      }, timeoutMs);
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      this.liveWaiters.push(wake);
    });
  }

  private url(): string {
    const url = new URL("/ws", this.options.baseUrl.replace(/^http/, "ws"));
    url.searchParams.set("room", this.options.room);
    url.searchParams.set("access_token", this.options.token);
    const cursor = Math.max(this.lastSeq, this.joinSeq ?? -1);
    this.since = cursor >= 0 ? cursor : undefined;
    if (this.since !== undefined) url.searchParams.set("since", String(this.since));
    return url.toString();
  }

  private open(): void {
    const ws = new WebSocket(this.url(), { handshakeTimeout: 5000, perMessageDeflate: false });
    this.ws = ws;
    this.live = false;
    this.welcome = undefined;
    let opened = false;
    let lastError = "";
    ws.on("open", () => {
      opened = true;
    });
    ws.on("error", (error: Error) => {
      lastError = error.message;
    });
    ws.on("message", (data: Buffer) => {
      if (ws === this.ws) this.onFrame(data);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      if (ws !== this.ws || this.closing) return;
      this.live = false;
      if (this.replayTimer !== undefined) clearTimeout(this.replayTimer);
      if (opened) this.fail("close", `${code}${reason.length > 0 ? ` ${reason.toString()}` : ""}`);
      else this.fail("refused", lastError || `closed with ${code} before the upgrade`);
      this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const attempt = this.reconnectAttempt++;
    // Like a real client: at once the first time, then exponential backoff with jitter, capped.
    const delay = attempt === 0 ? 0 : Math.min(50 * 2 ** attempt, MAX_RECONNECT_DELAY_MS) + Math.random() * 50;
    setTimeout(() => {
      if (!this.closing) this.open();
    }, delay);
  }

  private fail(kind: FailureKind, detail: string): void {
    this.failures.push({ at: Date.now(), kind, detail });
  }

  private onFrame(data: Buffer): void {
    let frame: { type?: unknown; [key: string]: unknown };
    try {
      frame = JSON.parse(data.toString("utf8")) as typeof frame;
    } catch {
      this.noteForeign(data.toString("utf8"));
      return;
    }
    switch (frame.type) {
      case "welcome":
        this.onWelcome(Number(frame.seq), frame.recovered === true, String(frame.instance));
        return;
      case "message":
        this.onMessage(frame);
        return;
      case "error":
        this.onError(String(frame.code), String(frame.message));
        return;
      default:
        // presence frames: not judged here.
        return;
    }
  }

  private onWelcome(seq: number, recovered: boolean, instance: string): void {
    this.instances.push(instance);
    this.welcomes.push({ at: Date.now(), instance, since: this.since, seq, recovered });
    this.joinSeq ??= seq;
    this.welcome = { seq, recovered };
    this.replayTimer = setTimeout(() => {
      if (this.live) return;
      this.fail("replay-timeout", `replay up to seq ${seq} incomplete after ${REPLAY_TIMEOUT_MS} ms (at ${this.lastSeq})`);
      this.goLive();
    }, REPLAY_TIMEOUT_MS);
    this.checkReplayDone();
  }

  private onMessage(frame: Record<string, unknown>): void {
    const seq = Number(frame.seq);
    const message = asDrillMessage(frame.data);
    if (message === undefined || frame.room !== this.options.room || !Number.isSafeInteger(seq)) {
      this.noteForeign(JSON.stringify(frame));
      return;
    }
    const key = messageKey(message);
    const seqs = this.received.get(key);
    if (seqs === undefined) this.received.set(key, [seq]);
    else seqs.push(seq);
    if (seq > this.lastSeq) this.lastSeq = seq;
    const pending = this.pending;
    if (pending !== undefined && message.c === this.id && message.n === pending.n) {
      this.acks.push({ n: pending.n, sentAt: pending.sentAt, ackAt: Date.now(), seq });
      this.pending = undefined;
    }
    if (!this.live) this.checkReplayDone();
  }

  private onError(code: string, message: string): void {
    this.fail("error-frame", `${code}: ${message}`);
    // "Message not accepted": send it again shortly (unless it turns up after all).
    if (this.pending !== undefined && (code === "unavailable" || code === "rate_limited")) this.scheduleResend(200);
  }

  private checkReplayDone(): void {
    const welcome = this.welcome;
    if (this.live || welcome === undefined) return;
    const cursor = Math.max(this.lastSeq, this.joinSeq ?? -1);
    if (!welcome.recovered || cursor >= welcome.seq) this.goLive();
  }

  private goLive(): void {
    if (this.live) return;
    this.live = true;
    this.reconnectAttempt = 0;
    if (this.replayTimer !== undefined) clearTimeout(this.replayTimer);
    // The unacknowledged message was neither replayed nor delivered live: give a late copy a moment, then send it again.
    if (this.pending !== undefined) this.scheduleResend(this.options.resendGraceMs);
    for (const wake of this.liveWaiters.splice(0)) wake();
  }

  private scheduleResend(delayMs: number): void {
    if (this.resendTimer !== undefined) clearTimeout(this.resendTimer);
    const n = this.pending?.n;
    this.resendTimer = setTimeout(() => {
      this.resendTimer = undefined;
      const pending = this.pending;
      if (pending === undefined || pending.n !== n || !this.live || this.closing) return;
      if (this.received.has(messageKey({ c: this.id, n: pending.n }))) return;
      this.resends++;
      this.transmit(pending.n);
      pending.sentAt = Date.now();
      pending.sends++;
    }, delayMs);
  }

  private transmit(n: number): void {
    const message: DrillMessage = { c: this.id, n };
    this.ws?.send(JSON.stringify({ type: "message", data: message }));
  }

  private onTick(): void {
    if (this.closing || !this.live) return;
    const pending = this.pending;
    if (pending !== undefined) {
      if (this.resendTimer === undefined && Date.now() - pending.sentAt > this.options.ackTimeoutMs) {
        this.fail("ack-timeout", `message ${pending.n} not acknowledged within ${this.options.ackTimeoutMs} ms on ${this.instance ?? "?"}`);
        // Treat the connection as dead, like a client whose heartbeat failed: reconnect and resume.
        this.ws?.terminate();
      }
      return;
    }
    if (!this.sending) return;
    const n = this.nextN++;
    this.pending = { n, sentAt: Date.now(), sends: 1 };
    this.transmit(n);
  }

  private noteForeign(text: string): void {
    this.foreignCount++;
    if (this.foreign.length < FOREIGN_KEPT) this.foreign.push(text.slice(0, 300));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
