/**
 * The instance's connections to what it depends on — Valkey, PostgreSQL, the LiveKit deployments'
 * health checks — built from the configuration. Built here, started by the app's start sequence.
 */
import type { ServiceConfig } from "../config";
import { Database } from "../db/database";
import { LivekitHealth } from "../livekit/health";
import type { Logger } from "../logger";
import type { AppMetrics } from "../metrics";
import { ValkeyConnections } from "../valkey/connections";
import { VALKEY_SCRIPTS, type ValkeyScripts } from "./valkey-scripts";

export interface Backends {
  valkey: ValkeyConnections<ValkeyScripts>;
  db: Database;
  livekitHealth: LivekitHealth;
}

export function createBackends(config: ServiceConfig, logger: Logger, metrics: AppMetrics): Backends {
  const valkey = new ValkeyConnections(
    {
      url: config.valkeyUrl,
      connectTimeoutMs: config.valkeyConnectTimeoutMs,
      roleCheckIntervalMs: config.valkeyRoleCheckIntervalMs,
      ca: config.valkeyCaCert,
      scripts: VALKEY_SCRIPTS,
    },
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
      ca: config.databaseCaCert,
      followRegionRole: config.regionRole === "auto",
    },
    logger,
    metrics,
  );
  const livekitHealth = new LivekitHealth(
    config.livekitDeployments,
    { intervalMs: config.livekitHealthIntervalMs, timeoutMs: config.livekitHealthTimeoutMs },
    logger,
    metrics,
  );
  return { valkey, db, livekitHealth };
}
