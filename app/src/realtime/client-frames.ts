/**
 * The client frames of open connections: rate limit, validation (JSON, shape, depth and size of
 * `data`), the user's Valkey quota, then the room log. Every frame gets an outcome, counted in
 * gomeet_ws_messages_in_total{result}: accepted (its seq comes back as the message itself), or an
 * error frame (rate_limited, read_only (a viewer's frame), invalid_frame, quota_exceeded, unavailable, internal_error); a refused
 * frame changes nothing. Nothing thrown while handling one frame leaves this module: it is logged,
 * counted as internal_error and answered, so one message cannot take the instance down.
 */
import { errorMessage } from "../errors";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { Connection } from "./connection";
import { clientFrameSchema } from "./frames";
import type { Hub } from "./hub";
import type { JsonShapeLimits } from "./json-shape";
import type { UserQuota } from "./user-quota";

export interface ClientFrameOptions {
  maxMessagesPerSecond: number;
  /** WS_MAX_DATA_DEPTH / WS_MAX_DATA_NODES: the shape bounds of a message's `data`. */
  dataLimits: JsonShapeLimits;
}

export interface ClientFrameDependencies {
  hub: Hub;
  quota: UserQuota;
  metrics: AppMetrics;
  logger: Logger;
}

export class ClientFrames {
  /** Counters bound to their label once (the accepted one is on the hot path). */
  private readonly outcomes;
  private readonly frameSchema: ReturnType<typeof clientFrameSchema>;

  constructor(
    private readonly options: ClientFrameOptions,
    private readonly deps: ClientFrameDependencies,
  ) {
    const counter = deps.metrics.wsMessagesIn;
    this.outcomes = {
      accepted: counter.labels("accepted"),
      rateLimited: counter.labels("rate_limited"),
      invalidFrame: counter.labels("invalid_frame"),
      readOnly: counter.labels("read_only"),
      quotaExceeded: counter.labels("quota_exceeded"),
      unavailable: counter.labels("unavailable"),
      internalError: counter.labels("internal_error"),
    };
    this.frameSchema = clientFrameSchema(options.dataLimits);
  }

  /**
   * One client frame, whatever it holds: a throw while handling it (a bug, or input no check foresaw)
   * is logged, counted (result="internal_error") and answered with an internal_error frame. It must
   * not reach the process's uncaughtException handler, which exits: one message would take every
   * connection of the instance down with it.
   */
  handle(connection: Connection, data: Buffer, isBinary: boolean, readOnly: boolean): void {
    try {
      this.check(connection, data, isBinary, readOnly);
    } catch (error) {
      this.internalError(connection, error);
    }
  }

  /** `readOnly`: the sender is a viewer of the room (gateway.ts checks the role once, at the join). */
  private check(connection: Connection, data: Buffer, isBinary: boolean, readOnly: boolean): void {
    if (connection.state === "closed") return;
    if (!connection.limiter.take()) {
      this.outcomes.rateLimited.inc();
      connection.noticeRateLimited(this.options.maxMessagesPerSecond);
      return;
    }
    if (readOnly) {
      this.outcomes.readOnly.inc();
      connection.sendError("read_only", "Viewers receive the room's messages but cannot send any");
      return;
    }
    if (isBinary) {
      this.outcomes.invalidFrame.inc();
      connection.sendError("invalid_frame", "Binary frames are not supported: send JSON text frames");
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString("utf8"));
    } catch {
      this.outcomes.invalidFrame.inc();
      connection.sendError("invalid_frame", "The frame is not valid JSON");
      return;
    }
    const frame = this.frameSchema.safeParse(parsed);
    if (!frame.success) {
      this.outcomes.invalidFrame.inc();
      connection.sendError("invalid_frame", frame.error.issues.map((issue) => issue.message).join("; "));
      return;
    }
    this.accept(connection, frame.data.data, data.length).catch((error: unknown) => this.internalError(connection, error));
  }

  /** The user's quota, then the room log. Frames of one connection keep their order (one Valkey connection answers in order). */
  private async accept(connection: Connection, data: unknown, bytes: number): Promise<void> {
    let published: Promise<number>;
    try {
      const refusal = await this.deps.quota.take(connection.user.id, bytes);
      if (refusal !== undefined) {
        this.outcomes.quotaExceeded.inc();
        connection.sendError("quota_exceeded", refusal.message);
        return;
      }
    } catch (error) {
      this.unavailable(connection, error);
      return;
    }
    try {
      published = this.deps.hub.publish(connection, data);
    } catch (error) {
      this.internalError(connection, error);
      return;
    }
    try {
      await published;
      this.outcomes.accepted.inc();
    } catch (error) {
      this.unavailable(connection, error);
    }
  }

  private unavailable(connection: Connection, error: unknown): void {
    this.outcomes.unavailable.inc();
    this.deps.logger.debug({ connection: connection.id, err: errorMessage(error) }, "message not accepted");
    connection.sendError("unavailable", "Message not accepted: Valkey is unavailable or refuses writes; send it again");
  }

  private internalError(connection: Connection, error: unknown): void {
    this.outcomes.internalError.inc();
    this.deps.logger.error({ connection: connection.id, room: connection.roomId, err: errorMessage(error) }, "client frame failed");
    try {
      connection.sendError("internal_error", "The message could not be handled and was dropped");
    } catch (sendError) {
      this.deps.logger.error({ connection: connection.id, err: errorMessage(sendError) }, "could not send the internal_error frame");
    }
  }
}
