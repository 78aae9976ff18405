/**
 * The app: builds every part from the configuration (wiring/), starts them in dependency order,
 * serves HTTP and WebSocket on one port, and stops gracefully.
 */
import { createAuthenticator } from "./auth";
import type { ServiceConfig } from "./config";
import { migrate, migrateOnPromotion } from "./db/migrations";
import { seqFloorOf } from "./db/region-role";
import { RoomMembers } from "./db/room-members";
import { RoomRepository } from "./db/rooms";
import { OriginPolicy } from "./http/cors";
import { RateLimits } from "./http/rate-limits";
import { RoomMissLimit } from "./http/room-miss-limit";
import { createInternalRequestHandler, createRequestHandler } from "./http/routes";
import { readinessHttpStatus, type Readiness } from "./http/readiness";
import { createLogger, type Logger } from "./logger";
import { AppMetrics } from "./metrics";
import { createBackends } from "./wiring/backends";
import { closeServer, createHttpServer, listen, serverUrl } from "./wiring/http-server";
import { shutDown, startInOrder } from "./wiring/lifecycle";
import { createLivekitTokens } from "./wiring/livekit";
import { DrainState, readinessReporter } from "./wiring/readiness-reporter";
import { createRealtime } from "./wiring/realtime";

export interface RunningApp {
  /** http://<host>:<port> (127.0.0.1 when listening on every address). */
  url: string;
  port: number;
  /** http://<host>:<metrics port>: /metrics and the detailed /readyz (the public /readyz carries the status only). */
  metricsUrl: string;
  metricsPort: number;
  instanceId: string;
  metrics: AppMetrics;
  readiness(): Readiness;
  /** Graceful shutdown: /readyz 503, drain delay, stop accepting, close sockets with 1012, remove presence, close pools. */
  stop(): Promise<void>;
}

export async function startApp(config: ServiceConfig, options: { logger?: Logger } = {}): Promise<RunningApp> {
  const logger = options.logger ?? createLogger(config.logLevel, config.instanceId);
  const metrics = new AppMetrics(config.instanceId);
  const drain = new DrainState();
  const authenticate = createAuthenticator(config.auth, { issuer: config.authIssuer, audience: config.authAudience });

  const backends = createBackends(config, logger, metrics);
  const { valkey, db, livekitHealth } = backends;
  const rooms = new RoomRepository(db, config.roomMissCacheSeconds * 1000);
  const members = new RoomMembers(db);
  const origins = new OriginPolicy(config.corsAllowedOrigins);
  const { hub, presence, heartbeat, gateway } = createRealtime(config, {
    valkey,
    members,
    authenticate,
    logger,
    metrics,
    isDraining: () => drain.draining,
    checkOrigin: (req) => origins.checkUpgrade(req),
    seqFloor: () => seqFloorOf(db.region()?.epoch),
  });
  const tokens = createLivekitTokens(config, backends, logger, metrics);
  const readiness = readinessReporter(config.instanceId, backends, drain, {
    name: config.regionName,
    followsDatabase: config.regionRole === "auto",
  });
  metrics.readinessFrom(() => {
    const current = readiness();
    return { status: current.status, ready: readinessHttpStatus(current) === 200 };
  });
  const httpTimeouts = {
    headersTimeoutMs: config.httpHeadersTimeoutMs,
    requestTimeoutMs: config.httpRequestTimeoutMs,
    keepAliveTimeoutMs: config.httpKeepAliveTimeoutMs,
  };
  const server = createHttpServer(
    createRequestHandler({
      instanceId: config.instanceId,
      maxBodyBytes: config.httpMaxBodyBytes,
      authenticate,
      rooms,
      members,
      presence,
      tokens,
      rateLimits: new RateLimits(config.rateLimits, valkey, metrics, logger),
      roomMisses: new RoomMissLimit({ windowSeconds: config.rateLimits.windowSeconds, missesPerWindow: config.roomMissesPerWindow }),
      origins,
      metrics,
      logger,
      readiness,
    }),
    gateway,
    logger,
    httpTimeouts,
  );
  const metricsServer = createHttpServer(
    createInternalRequestHandler({ instanceId: config.instanceId, metrics, logger, readiness }),
    undefined,
    logger,
    httpTimeouts,
  );

  await startInOrder([
    { start: () => valkey.start(), stop: () => valkey.stop() },
    { start: () => db.start(), stop: () => db.stop() },
    { start: () => (config.regionRole === "auto" ? migrateOnPromotion(db, logger) : migrate(db.primary.pool, logger)) },
    { start: () => livekitHealth.start(), stop: () => livekitHealth.stop() },
    { start: () => presence.start() },
    { start: async () => heartbeat.start(), stop: () => heartbeat.stop() },
    { start: () => listen(metricsServer, config.metricsPort, config.host), stop: () => closeServer(metricsServer) },
    { start: () => listen(server, config.port, config.host) },
  ]);
  const { url, port } = serverUrl(server, config.host);
  const metricsAddress = serverUrl(metricsServer, config.host);
  logger.info({ port, metricsPort: metricsAddress.port, readiness: readiness().status }, "GoMeet realtime service listening");

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    metricsUrl: metricsAddress.url,
    metricsPort: metricsAddress.port,
    instanceId: config.instanceId,
    metrics,
    readiness,
    stop: () =>
      (stopping ??= shutDown({ server, metricsServer, hub, presence, heartbeat, backends, drain, logger }, config.shutdownDrainSeconds)),
  };
}
