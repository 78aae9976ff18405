/**
 * `GET /ws?room=<id>&access_token=<jwt>[&since=<seq>]`: checks the upgrade request (every refusal
 * is an HTTP error with the JSON error body, before any WebSocket exists), then runs the
 * connection: join, client frames, leave.
 *
 * Refusals: 400 invalid_room_id / invalid_since, 403 origin_not_allowed (a browser Origin not in
 * CORS_ALLOWED_ORIGINS; no Origin is accepted), 401 missing_token / invalid_token /
 * token_expired, 403 room_access_denied (not a member, or no such room), 404 not_found, 503 draining /
 * redis_unavailable / database_unavailable.
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
import { isValidRoomId, newConnectionId } from "../ids";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { RoomMembers, RoomRole } from "../db/room-members";
import type { ValkeyConnections } from "../valkey/connections";
import { CLOSE_CODES, Connection } from "./connection";
import { clientFrameSchema } from "./frames";
import type { JsonShapeLimits } from "./json-shape";
import type { Hub } from "./hub";

export interface GatewayOptions {
  maxFrameBytes: number;
  maxMessagesPerSecond: number;
  maxBufferedBytes: number;
  /** WS_MAX_DATA_DEPTH / WS_MAX_DATA_NODES: the shape bounds of a message's `data`. */
  dataLimits: JsonShapeLimits;
}

export interface GatewayDependencies {
  authenticate: Authenticator;
  members: RoomMembers;
  hub: Hub;
  valkey: ValkeyConnections;
  metrics: AppMetrics;
  logger: Logger;
  isDraining(): boolean;
  /** Throws 403 `origin_not_allowed` for an upgrade from a browser origin that is not allowed. */
  checkOrigin(req: IncomingMessage): void;
}

/** Metric label per close code. */
const CLOSE_REASONS: Record<number, string> = {
  1000: "normal",
  1001: "going_away",
  1002: "protocol_error",
  1006: "abnormal",
  1009: "frame_too_large",
  1011: "internal_error",
  1012: "service_restart",
  1013: "unavailable",
  4000: "slow_consumer",
};

interface UpgradeRequest {
  roomId: string;
  since: number | undefined;
  user: User;
  /** The user's role in the room, checked once here: messages never ask the database. */
  role: RoomRole;
}

export class Gateway {
  private readonly wss: WebSocketServer;
  /** Counters bound to their label once (the accepted one is on the hot path). */
  private readonly messagesIn;
  private readonly frameSchema: ReturnType<typeof clientFrameSchema>;

  constructor(
    private readonly options: GatewayOptions,
    private readonly deps: GatewayDependencies,
  ) {
    const counter = deps.metrics.wsMessagesIn;
    this.messagesIn = {
      accepted: counter.labels("accepted"),
      rateLimited: counter.labels("rate_limited"),
      invalidFrame: counter.labels("invalid_frame"),
      unavailable: counter.labels("unavailable"),
      internalError: counter.labels("internal_error"),
      readOnly: counter.labels("read_only"),
    };
    this.frameSchema = clientFrameSchema(options.dataLimits);
    this.wss = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
  }

  /** The http server's "upgrade" listener. */
  handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", (error) => this.deps.logger.debug({ err: error.message }, "upgrade socket error"));
    this.checkRequest(req)
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

  private async checkRequest(req: IncomingMessage): Promise<UpgradeRequest> {
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
      this.options.maxMessagesPerSecond,
      this.options.maxBufferedBytes,
      () => metrics.slowConsumers.inc(),
    );
    ws.on("pong", () => connection.markAlive());
    ws.on("error", (error: Error) => {
      // ws closes the socket itself (1009 for an oversized frame, 1002 for a protocol error).
      logger.debug({ connection: connection.id, err: error.message }, "WebSocket error");
    });
    ws.on("close", (code) => {
      metrics.wsClosed.inc({ reason: CLOSE_REASONS[code] ?? `code_${code}` });
      void hub.leave(connection);
    });
    const readOnly = request.role === "viewer";
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onClientFrameGuarded(connection, data, isBinary, readOnly));
    connection.trackJoin(
      hub.join(connection, request.since).catch((error: unknown) => {
        logger.warn({ connection: connection.id, room: request.roomId, err: errorMessage(error) }, "join failed");
        connection.sendError("unavailable", "Could not join the room (Valkey unavailable); reconnect");
        connection.close(CLOSE_CODES.tryAgainLater, "unavailable");
      }),
    );
  }

  /**
   * One client frame, whatever it holds: a throw while handling it (a bug, or input no check foresaw)
   * is logged, counted (gomeet_ws_messages_in_total{result="internal_error"}) and answered with an
   * internal_error frame. It must not reach the process's uncaughtException handler, which exits:
   * one message would take every connection of the instance down with it.
   */
  private onClientFrameGuarded(connection: Connection, data: Buffer, isBinary: boolean, readOnly: boolean): void {
    try {
      this.onClientFrame(connection, data, isBinary, readOnly);
    } catch (error) {
      this.messagesIn.internalError.inc();
      this.deps.logger.error({ connection: connection.id, room: connection.roomId, err: errorMessage(error) }, "client frame failed");
      try {
        connection.sendError("internal_error", "The message could not be handled and was dropped");
      } catch (sendError) {
        this.deps.logger.error({ connection: connection.id, err: errorMessage(sendError) }, "could not send the internal_error frame");
      }
    }
  }

  private onClientFrame(connection: Connection, data: Buffer, isBinary: boolean, readOnly: boolean): void {
    const { hub } = this.deps;
    if (connection.state === "closed") return;
    if (!connection.limiter.take()) {
      this.messagesIn.rateLimited.inc();
      connection.noticeRateLimited(this.options.maxMessagesPerSecond);
      return;
    }
    if (readOnly) {
      this.messagesIn.readOnly.inc();
      connection.sendError("read_only", "Viewers receive the room's messages but cannot send any");
      return;
    }
    if (isBinary) {
      this.messagesIn.invalidFrame.inc();
      connection.sendError("invalid_frame", "Binary frames are not supported: send JSON text frames");
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch {
      this.messagesIn.invalidFrame.inc();
      connection.sendError("invalid_frame", "The frame is not valid JSON");
      return;
    }
    const frame = this.frameSchema.safeParse(parsed);
    if (!frame.success) {
      this.messagesIn.invalidFrame.inc();
      connection.sendError("invalid_frame", frame.error.issues.map((issue) => issue.message).join("; "));
      return;
    }
    hub.publish(connection, frame.data.data).then(
      () => this.messagesIn.accepted.inc(),
      (error: unknown) => {
        this.messagesIn.unavailable.inc();
        this.deps.logger.debug({ connection: connection.id, err: errorMessage(error) }, "message not accepted");
        connection.sendError("unavailable", "Message not accepted: Valkey is unavailable; send it again");
      },
    );
  }
}

/** Answers an upgrade request with an HTTP error and the JSON error body, then closes the socket. */
function refuse(socket: Socket, error: HttpError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toBody());
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? "Error"}\r\n` +
      "Content-Type: application/json; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      "Connection: close\r\n\r\n" +
      body,
  );
}
