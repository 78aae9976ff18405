/**
 * The realtime side built from the configuration: the hub (rooms and fan-out), presence (heartbeat,
 * participant list, dead-instance purge) and the WebSocket gateway in front of them.
 */
import type { Authenticator } from "../auth";
import type { AppConfig } from "../config";
import type { RoomRepository } from "../db/rooms";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import type { RedisConnections } from "../redis/connections";
import { Gateway } from "../realtime/gateway";
import { Hub } from "../realtime/hub";
import { PresenceService } from "../realtime/presence";
import type { HistoryLimits } from "../realtime/room-log-scripts";

export interface Realtime {
  hub: Hub;
  presence: PresenceService;
  gateway: Gateway;
}

export interface RealtimeDependencies {
  redis: RedisConnections;
  rooms: RoomRepository;
  authenticate: Authenticator;
  logger: Logger;
  metrics: AppMetrics;
  isDraining(): boolean;
}

/** The sequence counter outlives its history by far, so a resuming client never sees seqs restart. */
const SEQ_TTL_FLOOR_MS = 30 * 24 * 60 * 60 * 1000;

/** A room's history bounds, and its seq counter's TTL: at least 30 days, and at least ten times the history's age. */
export function historyLimits(config: Pick<AppConfig, "historyMaxLength" | "historyMaxAgeSeconds">): HistoryLimits {
  const maxAgeMs = config.historyMaxAgeSeconds * 1000;
  return { maxLength: config.historyMaxLength, maxAgeMs, seqTtlMs: Math.max(SEQ_TTL_FLOOR_MS, maxAgeMs * 10) };
}

export function createRealtime(config: AppConfig, deps: RealtimeDependencies): Realtime {
  const { redis, logger, metrics } = deps;
  const presenceTtlMs = config.presenceTtlSeconds * 1000;
  const hub = new Hub(
    redis,
    {
      instanceId: config.instanceId,
      history: historyLimits(config),
      replayBatch: config.historyReplayBatch,
      presenceTtlMs,
      publishBatchMs: config.wsPublishBatchMs,
      deliveryBatchMs: config.wsDeliveryBatchMs,
    },
    logger,
    metrics,
  );
  const presence = new PresenceService(
    redis,
    hub,
    { instanceId: config.instanceId, heartbeatIntervalMs: config.heartbeatIntervalMs, presenceTtlMs },
    logger,
    metrics,
  );
  const gateway = new Gateway(
    { maxFrameBytes: config.wsMaxFrameBytes, maxMessagesPerSecond: config.wsMaxMessagesPerSecond, maxBufferedBytes: config.wsMaxBufferedBytes },
    { authenticate: deps.authenticate, rooms: deps.rooms, hub, redis, metrics, logger, isDraining: deps.isDraining },
  );
  return { hub, presence, gateway };
}
