/**
 * An "attacker": a WebSocket in a real room, with a valid token, that sends malformed frames and
 * checks how each is answered (an error frame and the socket stays open, or the prescribed close).
 */
import WebSocket from "ws";
import { closeWebSocket } from "../load/close-websocket";
import type { Tally } from "./tally";
import type { FrameInput } from "./ws-inputs";

export class Attacker {
  private ws: WebSocket | undefined;
  private closeWaiter: ((code: number) => void) | undefined;
  private lastCategory = "(none)";
  published = 0;
  errors = 0;
  rateLimited = 0;

  constructor(
    private readonly url: string,
    private readonly userId: string,
    private readonly tally: Tally,
  ) {}

  /** Connects (a valid token to a real room: must be accepted); a refusal is recorded and retried a few times. */
  async connect(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.connectOnce();
      } catch (error) {
        this.tally.record("ws attacker (valid token) connect", "refused", false, (error as Error).message);
        if (attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const ws = new WebSocket(this.url, { perMessageDeflate: false, maxPayload: 1024 * 1024 });
    this.ws = ws;
    let lastError = "";
    let welcomed = false;
    ws.on("error", (error: Error) => (lastError = error.message));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`attacker ${this.userId}: no welcome within 10 s`));
      }, 10_000);
      ws.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as { type?: string; code?: string; from?: { id?: string } };
        if (frame.type === "welcome") {
          welcomed = true;
          clearTimeout(timer);
          resolve();
        } else if (frame.type === "error") {
          this.errors++;
          if (frame.code === "rate_limited") this.rateLimited++;
        } else if (frame.type === "message" && frame.from?.id === this.userId) {
          this.published++;
        }
      });
      ws.on("close", (code: number) => {
        clearTimeout(timer);
        if (this.ws !== ws) return;
        const waiter = this.closeWaiter;
        this.closeWaiter = undefined;
        if (waiter !== undefined) waiter(code);
        else if (welcomed)
          this.tally.record(
            this.lastCategory,
            `unexplained close ${code}`,
            false,
            "the server closed an attacker connection after a frame that should only get an error frame",
          );
        reject(new Error(`attacker ${this.userId}: closed with ${code} before the welcome${lastError ? ` (${lastError})` : ""}`));
      });
    });
  }

  /** Sends one frame; for a frame that must close the connection, waits for the close and reconnects. */
  async send(input: FrameInput): Promise<void> {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== WebSocket.OPEN) await this.reconnect();
    this.lastCategory = input.category;
    if (input.closes === undefined) {
      this.ws?.send(input.data, { binary: input.binary });
      this.tally.record(input.category, "sent", true);
      return;
    }
    const closed = new Promise<number | undefined>((resolve) => {
      const timer = setTimeout(() => {
        this.closeWaiter = undefined;
        resolve(undefined);
      }, 5000);
      this.closeWaiter = (code) => {
        clearTimeout(timer);
        resolve(code);
      };
    });
    this.ws?.send(input.data, { binary: input.binary });
    const code = await closed;
    this.tally.record(
      input.category,
      code === undefined ? "not closed" : `close ${code}`,
      code === input.closes,
      `expected close ${input.closes}`,
    );
    await this.reconnect();
  }

  /** Sends `count` malformed frames at once (over the rate limit); the connection must stay open. */
  async flood(frames: FrameInput[]): Promise<void> {
    if (this.ws === undefined || this.ws.readyState !== WebSocket.OPEN) await this.reconnect();
    this.lastCategory = "ws flood over the rate limit";
    const limitedBefore = this.rateLimited;
    for (const frame of frames) this.ws?.send(frame.data, { binary: frame.binary });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const open = this.ws?.readyState === WebSocket.OPEN;
    const limited = this.rateLimited > limitedBefore;
    for (let i = 0; i < frames.length; i++)
      this.tally.record(
        "ws flood over the rate limit",
        open && limited ? "rate limited, still open" : `open=${open} rate_limited=${limited}`,
        open && limited,
      );
  }

  private async reconnect(): Promise<void> {
    const old = this.ws;
    this.ws = undefined;
    old?.terminate();
    await this.connect();
  }

  async close(): Promise<void> {
    const ws = this.ws;
    this.ws = undefined;
    await closeWebSocket(ws, "barrage over");
  }
}
