/**
 * The realtime side built from the configuration: the room log and presence (the Valkey state of
 * rooms), the hub between them and the sockets, the heartbeat, and the WebSocket gateway in front.
 */
import type { IncomingMessage } from "node:http";
import type { Authenticator } from "../auth";
import type { ServiceConfig } from "../config";
import type { RoomMembers } from "../db/room-members";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { ValkeyConnections } from "../valkey/connections";
import type { ValkeyScripts } from "./valkey-scripts";
import { ClientFrames } from "../realtime/client-frames";
import { Gateway } from "../realtime/gateway";
import { Heartbeat } from "../realtime/heartbeat";
import { Hub } from "../realtime/hub";
import { PresenceService } from "../realtime/presence";
import { RoomLog } from "../realtime/room-log";
import type { HistoryLimits } from "../realtime/room-log-scripts";
import { UserQuota } from "../realtime/user-quota";

export interface Realtime {
  hub: Hub;
  presence: PresenceService;
  heartbeat: Heartbeat;
  gateway: Gateway;
}

export interface RealtimeDependencies {
  valkey: ValkeyConnections<ValkeyScripts>;
  /** Who may join which room (checked once per join). */
  members: RoomMembers;
  authenticate: Authenticator;
  logger: Logger;
  metrics: AppMetrics;
  isDraining(): boolean;
  /** The Origin check of WebSocket upgrades (see http/cors.ts). */
  checkOrigin(req: IncomingMessage): void;
  /** The realtime epoch's base (REGION_ROLE=auto; see db/region-role.ts); none: 0. */
  seqFloor?: () => number;
}

/** The sequence counter outlives its history by far, so a resuming client never sees seqs restart. */
const SEQ_TTL_FLOOR_MS = 30 * 24 * 60 * 60 * 1000;

/** A room's history bounds, and its seq counter's TTL: at least 30 days, and at least ten times the history's age. */
export function historyLimits(
  config: Pick<ServiceConfig, "historyMaxLength" | "historyMaxAgeSeconds" | "historyMaxRoomBytes">,
): HistoryLimits {
  const maxAgeMs = config.historyMaxAgeSeconds * 1000;
  return {
    maxLength: config.historyMaxLength,
    maxBytes: config.historyMaxRoomBytes,
    maxAgeMs,
    seqTtlMs: Math.max(SEQ_TTL_FLOOR_MS, maxAgeMs * 10),
  };
}

/**
 * Entries per replay page: HISTORY_REPLAY_BATCH, but no more than WS_REPLAY_HIGH_WATER_BYTES holds of
 * frames of the largest size (WS_MAX_FRAME_BYTES), and at least one: a page is what a connection's
 * replay holds in memory beyond its send buffer.
 */
export function replayPageEntries(
  config: Pick<ServiceConfig, "historyReplayBatch" | "wsReplayHighWaterBytes" | "wsMaxFrameBytes">,
): number {
  return Math.max(1, Math.min(config.historyReplayBatch, Math.floor(config.wsReplayHighWaterBytes / config.wsMaxFrameBytes)));
}

export function createRealtime(config: ServiceConfig, deps: RealtimeDependencies): Realtime {
  const { valkey, logger, metrics } = deps;
  const log = new RoomLog(valkey, { history: historyLimits(config), publishBatchMs: config.wsPublishBatchMs, seqFloor: deps.seqFloor });
  const presence = new PresenceService(
    valkey,
    { instanceId: config.instanceId, presenceTtlMs: config.presenceTtlSeconds * 1000 },
    logger,
    metrics,
  );
  const hub = new Hub(
    log,
    presence,
    {
      instanceId: config.instanceId,
      replayBatch: config.historyReplayBatch,
      replayPageEntries: replayPageEntries(config),
      deliveryBatchMs: config.wsDeliveryBatchMs,
      seqFloor: deps.seqFloor,
    },
    logger,
    metrics,
  );
  const frames = new ClientFrames(
    {
      maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
      dataLimits: { maxDepth: config.wsMaxDataDepth, maxNodes: config.wsMaxDataNodes },
    },
    { hub, quota: new UserQuota(valkey, config.userQuota), metrics, logger },
  );
  const heartbeat = new Heartbeat(config.heartbeatIntervalMs, hub, presence);
  const gateway = new Gateway(
    {
      maxFrameBytes: config.wsMaxFrameBytes,
      maxMessagesPerSecond: config.wsMaxMessagesPerSecond,
      maxBufferedBytes: config.wsMaxBufferedBytes,
      maxSocketsPerUser: config.wsMaxSocketsPerUser,
      replayHighWaterBytes: config.wsReplayHighWaterBytes,
    },
    {
      authenticate: deps.authenticate,
      members: deps.members,
      hub,
      frames,
      valkey,
      metrics,
      logger,
      isDraining: deps.isDraining,
      checkOrigin: deps.checkOrigin,
    },
  );
  return { hub, presence, heartbeat, gateway };
}
