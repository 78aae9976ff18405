/**
 * Wiring: builds every part from the configuration, starts them in dependency order, serves HTTP
 * and WebSocket on one port, and stops gracefully.
 */
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createAuthenticator } from "./auth";
import type { AppConfig } from "./config";
import { Database } from "./db/database";
import { migrate } from "./db/migrations";
import { RoomRepository } from "./db/rooms";
import { createRequestHandler } from "./http/routes";
import { readinessStatus, type Readiness } from "./http/readiness";
import { LivekitHealth } from "./livekit/health";
import { LivekitTokens } from "./livekit/tokens";
import { createLogger, type Logger } from "./logger";
import { AppMetrics } from "./metrics";
import { RedisConnections } from "./redis/connections";
import { CLOSE_CODES } from "./realtime/connection";
import { Gateway } from "./realtime/gateway";
import { Hub } from "./realtime/hub";
import { PresenceService } from "./realtime/presence";

export interface RunningApp {
  /** http://<host>:<port> (127.0.0.1 when listening on every address). */
  url: string;
  port: number;
  instanceId: string;
  metrics: AppMetrics;
  readiness(): Readiness;
  /** Graceful shutdown: /readyz 503, drain delay, stop accepting, close sockets with 1012, remove presence, close pools. */
  stop(): Promise<void>;
}

/** The sequence counter outlives its history by far, so a resuming client never sees seqs restart. */
const SEQ_TTL_FLOOR_MS = 30 * 24 * 60 * 60 * 1000;
/** How long closing clients get to answer the close frame before their sockets are dropped. */
const CLOSE_GRACE_MS = 1000;

export async function startApp(config: AppConfig, options: { logger?: Logger } = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel, config.instanceId);
  const metrics = new AppMetrics(config.instanceId);
  const authenticate = createAuthenticator(config.auth, { issuer: config.authIssuer, audience: config.authAudience });
  const presenceTtlMs = config.presenceTtlSeconds * 1000;
  let draining = false;

  const redis = new RedisConnections(
    { url: config.redisUrl, connectTimeoutMs: config.redisConnectTimeoutMs, roleCheckIntervalMs: config.redisRoleCheckIntervalMs },
    config.instanceId,
    logger,
    metrics,
  );
  const db = new Database(
    {
      primaryUrl: config.databaseUrl,
      replicaUrls: config.databaseReplicaUrls,
      connectTimeoutMs: config.dbConnectTimeoutMs,
      queryTimeoutMs: config.dbQueryTimeoutMs,
      poolMax: config.dbPoolMax,
      healthIntervalMs: config.dbHealthIntervalMs,
    },
    logger,
    metrics,
  );
  const livekitHealth = new LivekitHealth(
    config.livekitDatacenters,
    { intervalMs: config.livekitHealthIntervalMs, timeoutMs: config.livekitHealthTimeoutMs },
    logger,
    metrics,
  );
  const historyMaxAgeMs = config.historyMaxAgeSeconds * 1000;
  const hub = new Hub(
    redis,
    {
      instanceId: config.instanceId,
      history: { maxLength: config.historyMaxLength, maxAgeMs: historyMaxAgeMs, seqTtlMs: Math.max(SEQ_TTL_FLOOR_MS, historyMaxAgeMs * 10) },
      replayBatch: config.historyReplayBatch,
      presenceTtlMs,
      publishBatchMs: config.wsPublishBatchMs,
      deliveryBatchMs: config.wsDeliveryBatchMs,
    },
    logger,
    metrics,
  );
  const presence = new PresenceService(redis, hub, { instanceId: config.instanceId, heartbeatIntervalMs: config.heartbeatIntervalMs, presenceTtlMs }, logger, metrics);
  const rooms = new RoomRepository(db);
  const tokens = new LivekitTokens(
    config.livekitDatacenters,
    livekitHealth,
    redis,
    { tokenTtlSeconds: config.livekitTokenTtlSeconds, pinCacheMs: config.livekitHealthIntervalMs },
    logger,
    metrics,
  );
  const readiness = (): Readiness => {
    const dependencies = { redis: redis.currentHealth(), postgres: db.health(), livekit: livekitHealth.snapshot() };
    return { status: readinessStatus(dependencies), instance: config.instanceId, draining, dependencies };
  };
  const gateway = new Gateway(
    { maxFrameBytes: config.wsMaxFrameBytes, maxMessagesPerSecond: config.wsMaxMessagesPerSecond, maxBufferedBytes: config.wsMaxBufferedBytes },
    { authenticate, rooms, hub, redis, metrics, logger, isDraining: () => draining },
  );
  const server = http.createServer(
    createRequestHandler({ instanceId: config.instanceId, maxBodyBytes: config.httpMaxBodyBytes, authenticate, rooms, presence, tokens, metrics, logger, readiness }),
  );
  server.on("upgrade", (req, socket, head) => gateway.handleUpgrade(req, socket as Socket, head));
  server.on("clientError", (error, socket) => {
    logger.debug({ err: error.message }, "HTTP client error");
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
  });

  const started: Array<() => Promise<void> | void> = [];
  try {
    await redis.start();
    started.push(() => redis.stop());
    await db.start();
    started.push(() => db.stop());
    await migrate(db.primary.pool, logger);
    await livekitHealth.start();
    started.push(() => livekitHealth.stop());
    await presence.start();
    started.push(() => presence.stop());
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    for (const stop of started.reverse()) await stop();
    throw error;
  }

  const port = (server.address() as AddressInfo).port;
  const host = config.host === "0.0.0.0" || config.host === "::" ? "127.0.0.1" : config.host;
  logger.info({ port, readiness: readiness().status }, "GoMeet realtime service listening");

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    draining = true;
    logger.info({ drainSeconds: config.shutdownDrainSeconds }, "draining: /readyz answers 503");
    await new Promise((resolve) => setTimeout(resolve, config.shutdownDrainSeconds * 1000));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    await hub.closeAll(CLOSE_CODES.serviceRestart, "service restart", CLOSE_GRACE_MS);
    await presence.stop();
    await presence.deregister().catch((error: unknown) => logger.warn({ err: String(error) }, "could not deregister the instance"));
    await livekitHealth.stop();
    server.closeAllConnections();
    await closed;
    await Promise.allSettled([db.stop(), redis.stop()]);
    logger.info("stopped");
  };

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    instanceId: config.instanceId,
    metrics,
    readiness,
    stop: () => (stopping ??= stop()),
  };
}
