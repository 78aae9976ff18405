/**
 * HTTP traffic for a drill: one sequential request loop per stream, each recording every request
 * (start, end, status, error code) so the drill can count failures and measure outages.
 *
 * Kinds: `read` GET /rooms/:id of a room no instance has read yet (so it reaches PostgreSQL: the
 * app caches rooms it has seen), `write` POST /rooms, `token` POST /rooms/:id/token (Valkey pin +
 * LiveKit), `participants` GET /rooms/:id/participants (Valkey presence).
 */
export type RequestKind = "read" | "write" | "token" | "participants";

/** The status a request of each kind answers when it succeeds. */
const SUCCESS: Record<RequestKind, number> = { read: 200, write: 201, token: 200, participants: 200 };

export interface RequestSample {
  stream: string;
  kind: RequestKind;
  start: number;
  end: number;
  /** HTTP status; 0 when no response arrived (connection error or timeout). */
  status: number;
  ok: boolean;
  /** The error body's code, or the network error. */
  error?: string;
  /** Token requests: the LiveKit deployment the token is for. */
  deployment?: string;
  /** Write requests answered 201: the id of the room created (to check afterwards that it was kept). */
  roomId?: string;
}

export interface HttpStream {
  /** Unique name, e.g. "read@lb" or "token@app-2". */
  name: string;
  kind: RequestKind;
  baseUrl: string;
}

export interface HttpLoadOptions {
  streams: HttpStream[];
  token: string;
  /** Rooms for token and participants requests (round-robin). */
  rooms: string[];
  /** Rooms not read by anyone yet; each read takes one (falls back to `rooms` when exhausted). */
  unreadRooms: string[];
  /** Pause between two requests of a stream. */
  pauseMs: number;
  timeoutMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class HttpLoad {
  readonly samples: RequestSample[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private counter = 0;

  constructor(private readonly options: HttpLoadOptions) {}

  start(): void {
    this.running = true;
    this.loops = this.options.streams.map((stream) => this.loop(stream));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  private async loop(stream: HttpStream): Promise<void> {
    while (this.running) {
      this.samples.push(await this.request(stream));
      await sleep(this.options.pauseMs);
    }
  }

  private nextRoom(): string {
    const { rooms } = this.options;
    return rooms[this.counter++ % rooms.length] as string;
  }

  private async request(stream: HttpStream): Promise<RequestSample> {
    const { token, timeoutMs } = this.options;
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    let method = "GET";
    let path: string;
    let body: string | undefined;
    switch (stream.kind) {
      case "read":
        path = `/rooms/${this.options.unreadRooms.shift() ?? this.nextRoom()}`;
        break;
      case "write":
        method = "POST";
        path = "/rooms";
        headers["content-type"] = "application/json";
        body = JSON.stringify({ name: `drill room ${this.counter++}` });
        break;
      case "token":
        method = "POST";
        path = `/rooms/${this.nextRoom()}/token`;
        break;
      case "participants":
        path = `/rooms/${this.nextRoom()}/participants`;
        break;
    }
    const start = Date.now();
    try {
      const response = await fetch(`${stream.baseUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      let parsed: { error?: { code?: string }; deployment?: string; id?: string } = {};
      try {
        parsed = JSON.parse(text) as typeof parsed;
      } catch {
        // e.g. nginx's own HTML error page
      }
      const ok = response.status === SUCCESS[stream.kind];
      return {
        stream: stream.name,
        kind: stream.kind,
        start,
        end: Date.now(),
        status: response.status,
        ok,
        error: ok ? undefined : (parsed.error?.code ?? `HTTP ${response.status}`),
        deployment: parsed.deployment,
        roomId: ok && stream.kind === "write" ? parsed.id : undefined,
      };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      return {
        stream: stream.name,
        kind: stream.kind,
        start,
        end: Date.now(),
        status: 0,
        ok: false,
        error: cause ?? (error as Error).message,
      };
    }
  }
}
