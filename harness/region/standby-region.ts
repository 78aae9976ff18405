/**
 * Region b of the two-region cluster, the standby: a PostgreSQL server streaming from region a's primary endpoint
 * (the cross-region read-only node; it follows an in-region failover of region a), its own Valkey, app instances that
 * learn their role from that database (REGION_ROLE=auto: reads and realtime rooms served, writes answered 503
 * `region_standby` until it is promoted), its own regional load balancer (nginx, as region a's) and its own Prometheus
 * with the service's alert rules, scraping its instances (it outlives region a's: the region-loss drill's alerts).
 */
import { appEnvironment, type LivekitDeployment } from "../app-env";
import { AppInstance } from "../cluster/app-instance";
import { startNginx, type NginxLoadBalancer } from "../nginx";
import { freePort } from "../ports";
import { startReplica, type PgNode } from "../postgres";
import { startPrometheus, type LocalPrometheus } from "../prometheus";
import { startRedis, type RedisServer } from "../redis-node";

export interface StandbyRegionOptions {
  name: string;
  /** Region a's primary endpoint: the read-only node streams from whatever primary it leads to. */
  primaryEndpoint: { port: number };
  instances: number;
  /** The app's compiled main.js. */
  entry: string;
  authSecret: string;
  livekit: readonly LivekitDeployment[];
  /** Environment of every instance besides its backends (the local cluster's settings). */
  appEnv: Readonly<Record<string, string>>;
}

export interface StandbyRegion {
  name: string;
  /** The regional load balancer. */
  url: string;
  nginx: NginxLoadBalancer;
  instances: AppInstance[];
  /** The read-only node (promoted on a failover): every instance's DATABASE_URL. */
  postgres: PgNode;
  valkey: RedisServer;
  prometheus: LocalPrometheus;
  /** The root pids of every process of the region (each may have children: ask processTree). */
  rootPids(): number[];
  stop(): Promise<void>;
}

export async function startStandbyRegion(options: StandbyRegionOptions): Promise<StandbyRegion> {
  const ports = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
  const metricsPorts = await Promise.all(Array.from({ length: options.instances }, () => freePort()));
  const [postgres, valkey, nginx] = await Promise.allSettled([
    startReplica(options.primaryEndpoint),
    startRedis(),
    startNginx(ports.map((port) => ({ host: "127.0.0.1", port }))),
  ]);
  const stopStarted = async (): Promise<void> => {
    await Promise.allSettled([
      postgres.status === "fulfilled" ? postgres.value.stop() : undefined,
      valkey.status === "fulfilled" ? valkey.value.process.stop() : undefined,
      nginx.status === "fulfilled" ? nginx.value.stop() : undefined,
    ]);
  };
  if (postgres.status === "rejected" || valkey.status === "rejected" || nginx.status === "rejected") {
    await stopStarted();
    const failure = [postgres, valkey, nginx].find((r) => r.status === "rejected") as PromiseRejectedResult;
    throw failure.reason as Error;
  }
  const backends = {
    redisUrl: valkey.value.url,
    databaseUrl: postgres.value.url,
    replicaUrls: [],
    livekit: options.livekit,
    authSecret: options.authSecret,
  };
  const instances = ports.map((port, index) => {
    const id = `${options.name}-app-${index + 1}`;
    const metricsPort = metricsPorts[index] as number;
    const env = appEnvironment(backends, { id, port, metricsPort }, { ...options.appEnv, REGION_NAME: options.name, REGION_ROLE: "auto" });
    return new AppInstance(id, port, metricsPort, env, options.entry);
  });
  const prometheusStart = startPrometheus({ targets: instances.map((i) => ({ host: "127.0.0.1", port: i.metricsPort, name: i.id })) });
  const [started, prometheusResult] = await Promise.all([
    Promise.allSettled(instances.map((instance) => instance.start())),
    Promise.allSettled([prometheusStart]),
  ]);
  const prometheusStarted = prometheusResult[0];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(instances.filter((i) => i.running).map((i) => i.stop()));
    await Promise.allSettled([stopStarted(), prometheusStarted.status === "fulfilled" ? prometheusStarted.value.stop() : undefined]);
  };
  const failure = [...started, prometheusStarted].find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
  if (failure !== undefined) {
    await stop();
    throw failure.reason as Error;
  }
  const prometheus = (prometheusStarted as PromiseFulfilledResult<LocalPrometheus>).value;
  try {
    await prometheus.settled();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: options.name,
    url: nginx.value.url,
    nginx: nginx.value,
    instances,
    postgres: postgres.value,
    valkey: valkey.value,
    prometheus,
    rootPids: () => [
      prometheus.process.pid,
      nginx.value.process.pid,
      postgres.value.process.pid,
      valkey.value.process.pid,
      ...instances.filter((i) => i.running).map((i) => i.pid),
    ],
    stop,
  };
}
