/**
 * An HTTP and WebSocket client of the app's contract, for tests, drills and the bench: JSON calls,
 * room creation, and a WebSocket client that records frames and waits for one matching a predicate.
 */
import { randomBytes } from "node:crypto";
import net from "node:net";
import WebSocket from "ws";

/** A JSON value as the tests read it: loosely, field by field. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests assert on the fields they read
type LooseJson = any;

export async function api(
  baseUrl: string,
  method: string,
  route: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: LooseJson }> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`;
  let payload: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    payload = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${baseUrl}${route}`, { method, headers, body: payload });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: response.status, body };
}

export type MemberRole = "member" | "viewer";

/**
 * A new room owned by the token's user; `members` (user ids, or user id → role) are added by the owner
 * (PUT /rooms/:id/members/:userId): only members may join, read or get LiveKit tokens.
 */
export async function createRoom(
  baseUrl: string,
  userToken: string,
  name = "room",
  members: readonly string[] | Readonly<Record<string, MemberRole>> = [],
): Promise<string> {
  const created = await api(baseUrl, "POST", "/rooms", { token: userToken, body: { name } });
  if (created.status !== 201) throw new Error(`POST /rooms answered ${created.status}: ${JSON.stringify(created.body)}`);
  const room = created.body.id as string;
  const roles: Array<[string, MemberRole]> = Array.isArray(members)
    ? (members as readonly string[]).map((userId) => [userId, "member"])
    : Object.entries(members as Readonly<Record<string, MemberRole>>);
  for (const [userId, role] of roles) await addMember(baseUrl, userToken, room, userId, role);
  return room;
}

/** The owner adds `userId` to the room as `role` (or changes their role). */
export async function addMember(
  baseUrl: string,
  ownerToken: string,
  room: string,
  userId: string,
  role: MemberRole = "member",
): Promise<void> {
  const path = `/rooms/${encodeURIComponent(room)}/members/${encodeURIComponent(userId)}`;
  const added = await api(baseUrl, "PUT", path, { token: ownerToken, body: { role } });
  if (added.status !== 200) throw new Error(`PUT ${path} answered ${added.status}: ${JSON.stringify(added.body)}`);
}

export interface Frame {
  type: string;
  [key: string]: LooseJson;
}

/** A WebSocket client that keeps every frame it receives and can wait for one matching a predicate. */
export class TestClient {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString("utf8")) as Frame);
      for (const wake of this.waiters) wake();
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens /ws; resolves once the welcome frame arrived. */
  static async connect(baseUrl: string, params: { room: string; token: string; since?: number }): Promise<TestClient> {
    const client = TestClient.open(baseUrl, params);
    await new Promise<void>((resolve, reject) => {
      client.ws.once("open", () => resolve());
      client.ws.once("error", reject);
      client.ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    await client.next((f) => f.type === "welcome");
    return client;
  }

  static open(baseUrl: string, params: { room: string; token: string; since?: number }, options: WebSocket.ClientOptions = {}): TestClient {
    const url = new URL("/ws", baseUrl.replace(/^http/, "ws"));
    url.searchParams.set("room", params.room);
    url.searchParams.set("access_token", params.token);
    if (params.since !== undefined) url.searchParams.set("since", String(params.since));
    return new TestClient(new WebSocket(url, options));
  }

  get welcome(): Frame {
    const welcome = this.frames.find((f) => f.type === "welcome");
    if (welcome === undefined) throw new Error("no welcome frame yet");
    return welcome;
  }

  messages(): Frame[] {
    return this.frames.filter((f) => f.type === "message");
  }

  send(data: unknown): void {
    this.ws.send(JSON.stringify({ type: "message", data }));
  }

  /** Resolves with the first frame (from the start) matching `predicate`. */
  next(predicate: (frame: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    return this.until(() => this.frames.find(predicate), timeoutMs, "a matching frame");
  }

  /** Resolves once `count` frames match `predicate`. */
  async count(predicate: (frame: Frame) => boolean, count: number, timeoutMs = 5000): Promise<Frame[]> {
    return this.until(
      () => {
        const matching = this.frames.filter(predicate);
        return matching.length >= count ? matching : undefined;
      },
      timeoutMs,
      `${count} matching frames`,
    );
  }

  close(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close();
    return this.closed;
  }

  private until<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): boolean => {
        const found = check();
        if (found === undefined) return false;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(found);
        return true;
      };
      const wake = (): void => void attempt();
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; frames: ${JSON.stringify(this.frames).slice(0, 2000)}`));
      }, timeoutMs);
      if (!attempt()) this.waiters.push(wake);
    });
  }
}

/** The HTTP status and JSON body of a refused WebSocket upgrade. */
export function refusedUpgrade(
  baseUrl: string,
  query: Record<string, string>,
  pathName = "/ws",
  options: WebSocket.ClientOptions = {},
): Promise<{ status: number; body: LooseJson }> {
  const url = new URL(pathName, baseUrl.replace(/^http/, "ws"));
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once("open", () => {
      ws.close();
      reject(new Error(`upgrade to ${url.pathname}${url.search} was accepted`));
    });
    ws.once("unexpected-response", (_req, res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    ws.once("error", () => undefined);
  });
}

/** The clients a test file opens through `connect`; `closeAll` (in afterEach) closes every one. */
export class OpenClients {
  private readonly open: TestClient[] = [];

  readonly connect = async (baseUrl: string, room: string, userToken: string, since?: number): Promise<TestClient> => {
    const client = await TestClient.connect(baseUrl, { room, token: userToken, since });
    this.open.push(client);
    return client;
  };

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((client) => client.close()));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A WebSocket upgrade on a raw TCP socket that never reads a byte (paused before the answer arrives):
 * the server's writes pile up first in the kernel's buffers, then in the server's own memory. For the
 * hostile-client tests and drills (replay to a client that never reads). Destroy it to end it.
 */
export function openSilentSocket(baseUrl: string, query: Record<string, string>): Promise<net.Socket> {
  const url = new URL("/ws", baseUrl);
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => {
      socket.pause();
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        (error) => (error === undefined || error === null ? resolve(socket) : reject(error)),
      );
    });
    socket.once("error", reject);
  });
}
