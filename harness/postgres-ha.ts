/**
 * The PostgreSQL topology DigitalOcean runs, on loopback:
 *
 *   app ──► PgBouncer (transaction mode) ──► HAProxy endpoint ──► current primary ─┐ pg_auto_failover
 *                                                                 hot standby   ◄──┘ (monitor + keepers)
 *   app ──► read-only replica (streams through the endpoint, so it follows a promotion)
 *
 * The hot standby takes no reads (DigitalOcean's standby node); the read-only replica is what
 * DATABASE_REPLICA_URLS points at; the pool is what DATABASE_URL points at.
 */
import { startPgBouncer, type PgBouncerPool } from "./pgbouncer";
import { startPgPrimaryEndpoint, type PgPrimaryEndpoint } from "./pg-endpoint";
import { DATABASE, startPgFormation, type FormationNode, type PgFormation } from "./pg-formation";
import { rebuildReplica, startReplica, streamingReplicas, type PgNode } from "./postgres";

export interface PostgresHA {
  formation: PgFormation;
  /** The endpoint that leads to the current primary, unpooled (DigitalOcean's primary connection). */
  endpoint: PgPrimaryEndpoint;
  /** PgBouncer in transaction mode in front of the endpoint (DigitalOcean's connection pool). */
  pool: PgBouncerPool;
  /** The read-only replica (DigitalOcean's read-only node). */
  replica: PgNode;
  /** The formation node that is primary now, per the monitor. */
  currentPrimary(): Promise<FormationNode | undefined>;
  /** Whether the read-only replica streams from the current primary. */
  replicaStreaming(): Promise<boolean>;
  /** Makes the read-only replica again from the current primary (same port): for a replica that cannot follow a promotion. */
  rebuildReplica(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPostgresHA(): Promise<PostgresHA> {
  const formation = await startPgFormation();
  let endpoint: PgPrimaryEndpoint | undefined;
  try {
    endpoint = await startPgPrimaryEndpoint(formation.nodes, DATABASE);
  } catch (error) {
    await formation.stop();
    throw error;
  }
  const source = endpoint;
  const [replica, pool] = await Promise.allSettled([startReplica(source), startPgBouncer(source, DATABASE)]);
  const stop = async (): Promise<void> => {
    await Promise.allSettled([
      pool.status === "fulfilled" ? pool.value.stop() : undefined,
      replica.status === "fulfilled" ? replica.value.stop() : undefined,
    ]);
    await source.stop();
    await formation.stop();
  };
  if (replica.status === "rejected" || pool.status === "rejected") {
    await stop();
    throw (replica.status === "rejected" ? replica.reason : (pool as PromiseRejectedResult).reason) as Error;
  }
  const replicaName = `replica_${replica.value.port}`;
  return {
    formation,
    endpoint: source,
    pool: pool.value,
    replica: replica.value,
    currentPrimary: () => formation.currentPrimary(),
    replicaStreaming: async () => (await streamingReplicas(source)).includes(replicaName),
    rebuildReplica: () => rebuildReplica(replica.value, source),
    stop,
  };
}
