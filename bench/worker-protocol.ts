/**
 * The IPC protocol between the benchmark (parent) and its client worker processes. Clients run in
 * their own processes so that their CPU is never charged to, or taken from inside, a server.
 *
 * Every request carries an id; the worker answers each with exactly one reply with the same id.
 */
import type { SparseHistogram } from "./histogram";

/** The realtime systems compared in the fan-out benchmark ("candidate": another build of GoMeet, optional). */
export type SystemName = "gomeet" | "candidate" | "socketio" | "raw";

/** One client connection to open: which server, which room, and (GoMeet) which user. */
export interface ConnectionSpec {
  /** GoMeet: http://host:port of an instance; Socket.IO: its http://host:port; raw: ws://host:port. */
  server: string;
  room: string;
  /** GoMeet user id (the worker signs its JWT). */
  user: string;
}

/** How a worker speaks to a system: GoMeet's protocol, Socket.IO, or plain WebSocket messages. */
export type ClientKind = "gomeet" | "socketio" | "raw";

export interface OpenRequest {
  op: "open";
  system: ClientKind;
  connections: ConnectionSpec[];
  /** At most this many connection attempts in flight at once. */
  concurrency: number;
  /** Each connection must be ready (GoMeet: welcome received) within this time. */
  timeoutMs: number;
}

export interface SendRequest {
  op: "send";
  /** Messages per second this worker sends, spread round-robin over its connections. */
  ratePerSecond: number;
}

export interface HttpLoadRequest {
  op: "http";
  /** Base URLs (http://host:port) to spread the requests over. */
  servers: string[];
  rooms: string[];
  /**
   * "cached": a small fixed set of (user, name) pairs (after a warm-up every request is a cache hit); "signed": a new
   * display name per request (the token cache is keyed by identity and name: every request is a miss).
   */
  mode: "cached" | "signed";
  /** Members per room: user `<memberPrefix>-<k>` is a member of `rooms[k % rooms.length]` (bench/rooms.ts adds them). */
  usersPerRoom: number;
  memberPrefix: string;
  ratePerSecond: number;
  durationMs: number;
  /** Requests whose scheduled time is before this offset (ms) are sent but not recorded. */
  warmupMs: number;
  /** Prefix of display names, unique per run so an earlier run's cache entries cannot answer. */
  userPrefix: string;
  /** Keep-alive sockets per server. */
  socketsPerServer: number;
}

export type WorkerRequest =
  | OpenRequest
  | SendRequest
  | HttpLoadRequest
  | { op: "mark" }
  | { op: "report" }
  | { op: "stopSend" }
  | { op: "counts" }
  | { op: "closeAll"; timeoutMs: number };

export type Envelope<T> = T & { id: number };

export interface OpenReply {
  opened: number;
  failed: number;
  /** The first few distinct failure messages. */
  errors: string[];
  ms: number;
}

/** What a worker saw since the last "mark". */
export interface WindowReport {
  sent: number;
  received: number;
  latency: SparseHistogram;
  /** CPU seconds the worker itself used (user + system). */
  cpuSeconds: number;
  /** Connections that closed without being asked to. */
  unexpectedCloses: number;
  errors: string[];
}

export interface CountsReply {
  sent: number;
  /** Deliveries expected for what was sent (the room's connected members at send time). */
  expected: number;
  received: number;
  open: number;
}

export interface HttpLoadReply {
  sent: number;
  /** Requests after the warm-up that were answered (any status, or an error). */
  recorded: number;
  /** Requests after the warm-up without a 2xx answer (non-2xx, error, or unanswered at the end). */
  failed: number;
  /** Latency of the successful (2xx) answers only. */
  latency: SparseHistogram;
  statuses: Record<string, number>;
  errors: string[];
  /** Achieved request rate over the recorded part. */
  ratePerSecond: number;
}

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

/** The environment variable that passes the HS256 secret for GoMeet JWTs to a worker. */
export const WORKER_JWT_SECRET_ENV = "GOMEET_BENCH_JWT_SECRET";

/** The message a worker sends once it listens for requests. */
export const WORKER_READY = "ready";
