/**
 * Region a coming back after it was lost and fenced (the region-loss drill measures that nothing reaches it): its
 * regional load balancer (same port) and app instances (same ids and ports) start again, with a fresh Valkey (the
 * local Valkey keeps nothing on disk) and its PostgreSQL primary endpoint restarted FENCED: the same port, every
 * server `disabled`, which is what the fence recorded for this region means (DigitalOcean: the old cluster's
 * trusted sources emptied by the failover's fence step). The apps therefore start without a database (REGION_ROLE=auto
 * allows that: /readyz says degraded, writes answer 503) and the global endpoint keeps the region out whatever its
 * health checks say. The old region's PostgreSQL nodes are not restarted: behind a fenced endpoint they are unreachable
 * to the apps either way (docs/local-cluster-and-drills.md).
 */
import fs from "node:fs/promises";
import path from "node:path";
import { findBinary } from "../binaries";
import { AppInstance } from "../cluster/app-instance";
import { compiledAppEntry } from "../cluster/app-build";
import type { Cluster } from "../cluster/cluster";
import { startNginx, type NginxLoadBalancer } from "../nginx";
import { pgEndpointConfig } from "../pg-endpoint";
import { isListening } from "../ports";
import { spawnManaged, tempDir, waitForReady, type ManagedProcess } from "../process";
import { startRedis, type RedisServer } from "../redis-node";

export interface RestartedRegion {
  nginx: NginxLoadBalancer;
  instances: AppInstance[];
  valkey: RedisServer;
  /** The fenced PostgreSQL endpoint (every server disabled). */
  databaseEndpoint: { url: string; process: ManagedProcess };
  rootPids(): number[];
  stop(): Promise<void>;
}

/** The primary endpoint's configuration with every server disabled: it listens, and takes nobody anywhere. */
export function fencedEndpointConfig(port: number, servers: readonly { host: string; port: number }[], statsSocket: string): string {
  return pgEndpointConfig(port, servers, statsSocket)
    .split("\n")
    .map((line) => (/^\s+server\s/.test(line) ? `${line} disabled` : line))
    .join("\n");
}

async function startFencedEndpoint(
  port: number,
  servers: readonly { host: string; port: number }[],
): Promise<{ url: string; process: ManagedProcess }> {
  const dir = await tempDir(`haproxy-pg-fenced-${port}`);
  const configFile = path.join(dir, "haproxy.cfg");
  await fs.writeFile(configFile, fencedEndpointConfig(port, servers, path.join(dir, "admin.sock")));
  const proc = spawnManaged(`haproxy-pg-fenced-${port}`, findBinary("haproxy"), ["-db", "-f", configFile]);
  await waitForReady(proc, () => isListening(port), { timeoutMs: 5000, what: `the fenced PostgreSQL endpoint to listen on port ${port}` });
  return { url: `postgres://postgres@127.0.0.1:${port}/gomeet`, process: proc };
}

export async function restartFencedRegion(cluster: Cluster): Promise<RestartedRegion> {
  const { postgres } = cluster.backing;
  const [valkey, endpoint] = await Promise.all([startRedis(), startFencedEndpoint(postgres.endpoint.port, postgres.formation.nodes)]);
  const entry = compiledAppEntry();
  const instances = cluster.instances.map(
    (old) =>
      new AppInstance(
        old.id,
        old.port,
        old.metricsPort,
        { ...old.env, REDIS_URL: valkey.url, DATABASE_URL: endpoint.url, DATABASE_REPLICA_URLS: "" },
        entry,
      ),
  );
  let nginx: NginxLoadBalancer | undefined;
  const stop = async (): Promise<void> => {
    await Promise.allSettled(instances.filter((i) => i.running).map((i) => i.kill()));
    await Promise.allSettled([nginx?.stop(), valkey.process.stop(), endpoint.process.stop()]);
  };
  try {
    await Promise.all(instances.map((instance) => instance.start({ until: "serving" })));
    nginx = await startNginx(
      instances.map((i) => ({ host: "127.0.0.1", port: i.port })),
      { port: cluster.nginx.port },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  const lb = nginx;
  return {
    nginx: lb,
    instances,
    valkey,
    databaseEndpoint: endpoint,
    rootPids: () => [lb.process.pid, valkey.process.pid, endpoint.process.pid, ...instances.filter((i) => i.running).map((i) => i.pid)],
    stop,
  };
}
