/**
 * Readiness: the state of every dependency as seen from this instance.
 *
 * - unhealthy (503): Valkey is down, not a primary, or refusing writes (OOM) — rooms cannot work on this instance;
 * - degraded (200): the PostgreSQL primary is down (room reads and all realtime traffic still
 *   work; room creation answers 503 database_unavailable), a replica is down (reads go to the
 *   primary), or a LiveKit deployment is down (rooms are re-pinned to a healthy one);
 * - healthy (200) otherwise. While draining (shutdown), 503 whatever the status.
 * Marking every instance unready during a PostgreSQL failover would take the whole service out
 * of the load balancer for something most requests do not need; that is why the primary counts
 * as "degraded".
 */
import type { ValkeyHealth } from "../valkey/connections";
import type { NodeHealth } from "../db/database";
import type { DeploymentHealth } from "../livekit/health";

export type ReadinessStatus = "healthy" | "degraded" | "unhealthy";

export interface Readiness {
  status: ReadinessStatus;
  instance: string;
  draining: boolean;
  dependencies: {
    /** Valkey. The /readyz key keeps its published name (docs/service-contract.md, "Names kept from Redis"). */
    redis: ValkeyHealth;
    postgres: { primary: NodeHealth; replicas: NodeHealth[] };
    livekit: DeploymentHealth[];
  };
  /** REGION_ROLE=auto: the region's role from its database ("unknown" until it answered), its realtime epoch, its replication lag. */
  region?: { name?: string; role: "primary" | "standby" | "unknown"; epoch?: number; replicationLagSeconds?: number };
}

export function readinessStatus(dependencies: Readiness["dependencies"]): ReadinessStatus {
  if (!dependencies.redis.healthy) return "unhealthy";
  const { primary, replicas } = dependencies.postgres;
  const degraded = !primary.healthy || replicas.some((r) => !r.healthy) || dependencies.livekit.some((dc) => !dc.healthy);
  return degraded ? "degraded" : "healthy";
}

export function readinessHttpStatus(readiness: Readiness): number {
  return readiness.draining || readiness.status === "unhealthy" ? 503 : 200;
}
