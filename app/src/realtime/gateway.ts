/**
 * `GET /ws?room=<id>&access_token=<jwt>[&since=<seq>]`: checks the upgrade request (every refusal
 * is an HTTP error with the JSON error body, before any WebSocket exists), then runs the
 * connection: join, client frames, leave.
 *
 * Refusals: 400 invalid_room_id / invalid_since, 403 origin_not_allowed (a browser Origin not in
 * CORS_ALLOWED_ORIGINS; no Origin is accepted), 401 missing_token / invalid_token /
 * token_expired, 403 room_access_denied (not a member, or no such room), 404 not_found, 429 too_many_connections
 * (WS_MAX_SOCKETS_PER_USER), 503 draining / redis_unavailable / database_unavailable. After a refusal the socket is
 * destroyed.
 * On an open socket, bad input gets an error frame and changes nothing: invalid_frame (binary,
 * not JSON, wrong shape, data too deep or too big: WS_MAX_DATA_DEPTH / WS_MAX_DATA_NODES),
 * internal_error (handling the one message threw: caught per message), rate_limited (over WS_MAX_MESSAGES_PER_SECOND; dropped),
 * read_only (a viewer's message; dropped); a frame over
 * WS_MAX_FRAME_BYTES closes with 1009; a slow consumer is closed with 4000.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { STATUS_CODES } from "node:http";
import WebSocket, { WebSocketServer } from "ws";
import type { Authenticator, User } from "../auth";
import { HttpError, errorMessage } from "../errors";
import { answerAndClose } from "../http/refuse-socket";
import { isValidRoomId, newConnectionId } from "../ids";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { RoomMembers, RoomRole } from "../db/room-members";
import type { ValkeyConnections } from "../valkey/connections";
import { CLOSE_CODES, Connection } from "./connection";
import type { ClientFrames } from "./client-frames";
import { UserSockets } from "./user-sockets";
import type { Hub } from "./hub";

export interface GatewayOptions {
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  maxBufferedBytes: number;
  /** WS_MAX_SOCKETS_PER_USER: open connections of one user on this instance. */
  maxSocketsPerUser: number;
  /** WS_REPLAY_HIGH_WATER_BYTES: a replay page is written only when the send buffer holds less. */
  replayHighWaterBytes: number;
}

export interface GatewayDependencies {
  authenticate: Authenticator;
  members: RoomMembers;
  hub: Hub;
  /** Handles each client frame of an open connection. */
  frames: ClientFrames;
  valkey: ValkeyConnections;
  metrics: AppMetrics;
  logger: Logger;
  isDraining(): boolean;
  /** Throws 403 `origin_not_allowed` for an upgrade from a browser origin that is not allowed. */
  checkOrigin(req: IncomingMessage): void;
}

/**
 * Metric label per close code. The client chooses its own close code: any code not listed is "other",
 * so gomeet_ws_closed_total has a bounded set of series whatever clients send.
 */
const CLOSE_REASONS: Readonly<Record<number, string>> = {
  1000: "normal",
  1001: "going_away",
  1002: "protocol_error",
  1003: "unsupported_data",
  1005: "no_status",
  1006: "abnormal",
  1007: "invalid_payload",
  1008: "policy_violation",
  1009: "frame_too_large",
  1011: "internal_error",
  1012: "service_restart",
  1013: "unavailable",
  4000: "slow_consumer",
  4001: "replay_incomplete",
};

export function closeReason(code: number): string {
  return Object.hasOwn(CLOSE_REASONS, code) ? (CLOSE_REASONS[code] as string) : "other";
}

interface UpgradeRequest {
  roomId: string;
  since: number | undefined;
  user: User;
  /** The user's role in the room, checked once here: messages never ask the database. */
  role: RoomRole;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  private readonly userSockets: UserSockets;
  constructor(
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDependencies,
  ) {
    this.userSockets = new UserSockets(options.maxSocketsPerUser);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** The http server's "upgrade" listener. */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", (error) => this.deps.logger.debug({ err: error.message }, "upgrade socket error"));
    this.checkRequest(req, socket)
      .then((checked) => {
        if (socket.destroyed) return;
        this.wss.handleUpgrade(req, socket, head, (ws) => this.run(ws, socket, checked));
      })
      .catch((error: unknown) => {
        const httpError = error instanceof HttpError ? error : new HttpError(500, "internal_error", "Internal error");
        if (!(error instanceof HttpError)) this.deps.logger.error({ err: errorMessage(error) }, "upgrade failed");
        refuse(socket, httpError);
      });
  }

  private async checkRequest(req: IncomingMessage, socket: Socket): Promise<UpgradeRequest> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (url.pathname !== "/ws") throw new HttpError(404, "not_found", `No WebSocket endpoint at ${url.pathname}`);
    this.deps.checkOrigin(req);
    if (this.deps.isDraining()) throw new HttpError(503, "draining", "This instance is shutting down; connect again");
    const roomId = url.searchParams.get("room") ?? "";
    if (!isValidRoomId(roomId)) throw new HttpError(400, "invalid_room_id", "room must be 1-64 characters of A-Z a-z 0-9 _ -");
    const sinceText = url.searchParams.get("since");
    let since: number | undefined;
    if (sinceText !== null) {
      since = /^\d{1,15}$/.test(sinceText) ? Number(sinceText) : NaN;
      if (!Number.isSafeInteger(since))
        throw new HttpError(400, "invalid_since", "since must be a non-negative integer (the last seq received)");
    }
    const user = await this.deps.authenticate(url.searchParams.get("access_token") ?? undefined);
    const role = await this.deps.members.require(roomId, user.id);
    if (!this.deps.valkey.currentHealth().healthy)
      throw new HttpError(503, "redis_unavailable", "Rooms are unavailable on this instance; connect again");
    // Last, and synchronously with the answer: the slot is held until this socket closes.
    this.userSockets.acquire(user.id, socket);
    return { roomId, since, user, role };
  }

  private run(ws: WebSocket, socket: Socket, request: UpgradeRequest): void {
    const { hub, metrics, logger } = this.deps;
    const connection = new Connection(
      newConnectionId(),
      request.roomId,
      request.user,
      ws,
      socket,
      {
        maxMessagesPerSecond: this.options.maxMessagesPerSecond,
        maxBufferedBytes: this.options.maxBufferedBytes,
        replayHighWaterBytes: this.options.replayHighWaterBytes,
      },
      () => metrics.slowConsumers.inc(),
    );
    ws.on("pong", () => connection.markAlive());
    ws.on("error", (error: Error) => {
      // ws closes the socket itself (1009 for an oversized frame, 1002 for a protocol error).
      logger.debug({ connection: connection.id, err: error.message }, "WebSocket error");
    });
    ws.on("close", (code) => {
      metrics.wsClosed.inc({ reason: closeReason(code) });
      void hub.leave(connection);
    });
    const readOnly = request.role === "viewer";
    ws.on("message", (data: Buffer, isBinary: boolean) => this.deps.frames.handle(connection, data, isBinary, readOnly));
    connection.trackJoin(
      hub.join(connection, request.since).catch((error: unknown) => {
        logger.warn({ connection: connection.id, room: request.roomId, err: errorMessage(error) }, "join failed");
        connection.sendError("unavailable", "Could not join the room (Valkey unavailable); reconnect");
        connection.close(CLOSE_CODES.tryAgainLater, "unavailable");
      }),
    );
  }
}

/** Answers an upgrade request with an HTTP error and the JSON error body, then closes the socket for good. */
function refuse(socket: Socket, error: HttpError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  answerAndClose(
    socket,
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
