/**
 * "The cluster is whole again": every instance running and healthy, the Valkey replica in sync
 * with the primary, the PostgreSQL formation primary + secondary and the read-only replica streaming. Each drill starts from, and returns to, that.
 */
import { redisInfo } from "../harness/redis";
import { waitFor } from "../harness/process";
import { fetchReadiness } from "../harness/cluster/app-instance";
import type { Cluster } from "../harness/cluster/cluster";

async function problems(cluster: Cluster): Promise<string[]> {
  const found: string[] = [];
  await Promise.all(
    cluster.instances.map(async (instance) => {
      if (!instance.running) return void found.push(`${instance.id} is not running`);
      const readiness = await fetchReadiness(instance.metricsUrl, 1000).catch(() => undefined);
      if (readiness?.status !== "healthy") found.push(`${instance.id} is ${readiness?.status ?? "not answering /readyz"}`);
    }),
  );
  const { redis, postgres } = cluster.backing;
  const primary = await redis.currentPrimary().catch(() => undefined);
  if (primary === undefined) found.push("no Sentinel knows the Valkey primary");
  else {
    const replica = [redis.primary, redis.replica].find((node) => node.port !== primary.port);
    const info = replica === undefined ? undefined : await redisInfo(replica, "replication", 500).catch(() => undefined);
    if (info?.role !== "slave" || info.master_link_status !== "up" || Number(info.master_port) !== primary.port) {
      found.push(`the Valkey replica is not in sync with the primary ${primary.host}:${primary.port}`);
    }
  }
  const states = await postgres.formation.states().catch(() => []);
  const settled = states.length === 2 && states.every((s) => s.reported === s.assigned);
  if (!settled || !states.some((s) => s.reported === "primary") || !states.some((s) => s.reported === "secondary")) {
    found.push(
      `the PostgreSQL formation is not primary + secondary (${states.map((s) => `${s.name} ${s.reported}/${s.assigned}`).join(", ")})`,
    );
  }
  if (!(await postgres.replicaStreaming().catch(() => false)))
    found.push("the PostgreSQL read-only replica is not streaming from the primary");
  return found;
}

/** Resolves once the whole cluster is healthy; the timeout error lists what is not. */
export async function waitClusterHealthy(cluster: Cluster, timeoutMs = 30_000): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(
      async () => {
        last = await problems(cluster);
        return last.length === 0;
      },
      { timeoutMs, intervalMs: 200, what: "the cluster to be healthy" },
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${last.join("; ")}`);
  }
}
