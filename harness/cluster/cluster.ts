/**
 * The local replica of the production topology, as a library: Sentinel-managed Valkey behind an
 * HAProxy endpoint, PostgreSQL (pg_auto_failover primary + hot standby, an endpoint that follows the
 * primary, PgBouncer in transaction mode, a read-only replica), two LiveKit stand-ins (own processes), N app instances
 * (child processes), nginx in front of them and a Prometheus scraping them with the service's alert rules.
 * `npm run cluster`, the drills and the reliability tests all start it through startCluster, and break it
 * through the handles it returns.
 */
import { startBackingServices, type BackingServices } from "../backing-services";
import { startNginx, type NginxLoadBalancer } from "../nginx";
import { freePort } from "../ports";
import { waitFor } from "../process";
import { appEnvironment } from "../app-env";
import { compiledAppEntry } from "./app-build";
import { AppInstance } from "./app-instance";
import { startLivekitProcess, type LivekitProcess } from "./livekit-deployment";
import { checkClusterBinaries } from "./preflight";
import { newAuthSecret } from "../tokens";
import { startPrometheus, type LocalPrometheus } from "../prometheus";

/**
 * The shutdown drain of the local instances. In Kubernetes it covers the time the load balancer needs
 * to stop routing to a terminating pod; the local nginx has nothing to propagate (a draining instance
 * refuses new WebSockets with 503 and nginx retries elsewhere), so a short drain keeps rolling restarts quick.
 */
const LOCAL_DRAIN_SECONDS = 2;

/**
 * The drills' HTTP load is one user making hundreds of REST calls a minute, more than the per-user limits
 * allow: lifted here so drills measure recovery, not the limiter (test/app/browser-clients.test.ts covers it).
 */
const LOCAL_RATE_LIMITS = { RATE_LIMIT_ROOM_CREATES: "1000000", RATE_LIMIT_LIVEKIT_GRANTS: "1000000" };

/** The local settings of every app instance of a local cluster (the standby region's too). */
export function localInstanceEnv(allowedOrigins: readonly string[]): Record<string, string> {
  return { SHUTDOWN_DRAIN_SECONDS: String(LOCAL_DRAIN_SECONDS), CORS_ALLOWED_ORIGINS: allowedOrigins.join(","), ...LOCAL_RATE_LIMITS };
}

export interface ClusterOptions {
  /** Number of app instances (default 3). */
  instances?: number;
  /** Names of the LiveKit stand-ins (default livekit-a, livekit-b). */
  livekitDeployments?: string[];
  /** Environment overrides for every app instance. */
  appEnv?: Readonly<Record<string, string>>;
  /** Browser origins the instances answer CORS for and accept WebSockets from (CORS_ALLOWED_ORIGINS); default none. */
  allowedOrigins?: readonly string[];
  /** Progress lines while starting (e.g. to stderr). */
  progress?: (line: string) => void;
  /** Multiplies the alert rules' `for:` in the local Prometheus (default LOCAL_ALERT_FOR_SCALE in harness/prometheus.ts). */
  alertForScale?: number;
}

export interface ClusterStartup {
  /** Milliseconds until each part was ready; `total` is until the whole cluster was. */
  backingServices: number;
  appInstances: number;
  total: number;
}

export interface Cluster {
  /** The load balancer (nginx): what clients use. */
  url: string;
  nginx: NginxLoadBalancer;
  instances: AppInstance[];
  /** Valkey (Sentinel + HAProxy) and PostgreSQL. */
  backing: BackingServices;
  /** The LiveKit stand-ins, each in its own process. */
  livekit: LivekitProcess[];
  /** AUTH_JWT_SECRET of every instance (HS256). */
  authSecret: string;
  /** CORS_ALLOWED_ORIGINS of every instance. */
  allowedOrigins: string[];
  /** A real Prometheus scraping every instance with the service's alert rules (ready: every instance scraped up, nothing firing). */
  prometheus: LocalPrometheus;
  startupMs: ClusterStartup;
  /** Stops every process of the cluster (app instances gracefully, in parallel). Temporary directories go with the harness's stopAll(). */
  stop(): Promise<void>;
}

const APP_INSTANCES = 3;

/**
 * Starts the cluster on free loopback ports; resolves once every instance reports healthy on
 * /readyz and the load balancer answers. If any part fails to start, the parts already running are
 * stopped and the error (with the failing process's last output) is thrown.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const began = Date.now();
  const progress = options.progress ?? (() => undefined);
  checkClusterBinaries();
  const count = options.instances ?? APP_INSTANCES;
  if (!Number.isInteger(count) || count < 1) throw new Error(`startCluster: instances must be a positive integer, got ${String(count)}`);
  const authSecret = newAuthSecret();
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  // Each instance's METRICS_PORT (/metrics, the detailed /readyz): Prometheus scrapes it; nginx never sees it.
  const metricsPorts = await Promise.all(Array.from({ length: count }, () => freePort()));

  progress(
    "starting Valkey (primary, replica, 3 Sentinels, HAProxy), PostgreSQL (pg_auto_failover monitor, primary, standby, " +
      "HAProxy, PgBouncer, read-only replica), LiveKit stand-ins and nginx",
  );
  // The LiveKit stand-ins run in their own processes (not the harness's in-process ones): a busy
  // process driving drills must not make a deployment look unhealthy.
  const starting = Promise.allSettled([
    startBackingServices({ livekitDeployments: [] }),
    startNginx(ports.map((port) => ({ host: "127.0.0.1", port }))),
    Promise.all((options.livekitDeployments ?? ["livekit-a", "livekit-b"]).map(startLivekitProcess)),
  ]);
  // Transpiling the app (when app/src changed) is synchronous: let the servers spawn first, then build while they start.
  await new Promise((resolve) => setTimeout(resolve, 20));
  let entry: string | undefined;
  let buildError: unknown;
  const buildBegan = Date.now();
  try {
    entry = compiledAppEntry();
  } catch (error) {
    buildError = error;
  }
  const buildMs = Date.now() - buildBegan;
  const [backingResult, nginxResult, livekitResult] = await starting;
  if (
    backingResult.status === "rejected" ||
    nginxResult.status === "rejected" ||
    livekitResult.status === "rejected" ||
    entry === undefined
  ) {
    await Promise.allSettled([
      backingResult.status === "fulfilled" ? backingResult.value.stop() : undefined,
      nginxResult.status === "fulfilled" ? nginxResult.value.stop() : undefined,
      ...(livekitResult.status === "fulfilled" ? livekitResult.value.map((lk) => lk.process.stop()) : []),
    ]);
    const failure = [backingResult, nginxResult, livekitResult].find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    throw (failure?.reason ?? buildError) as Error;
  }
  const backing = backingResult.value;
  const nginx = nginxResult.value;
  const livekit = livekitResult.value;
  const backingReady = Date.now() - began;
  progress(
    `backing services ready in ${(backingReady / 1000).toFixed(1)} s (app built or found in ${buildMs} ms); starting ${count} app instances`,
  );

  const allowedOrigins = [...(options.allowedOrigins ?? [])];
  const backends = {
    redisUrl: backing.redis.endpoint.url,
    // DATABASE_URL is the transaction-mode pool, as on DigitalOcean; reads go to the read-only replica.
    databaseUrl: backing.postgres.pool.url,
    replicaUrls: [backing.postgres.replica.url],
    livekit,
    authSecret,
  };
  const instances = ports.map((port, index) => {
    const id = `app-${index + 1}`;
    const env = appEnvironment(
      backends,
      { id, port, metricsPort: metricsPorts[index] },
      {
        ...localInstanceEnv(allowedOrigins),
        ...options.appEnv,
      },
    );
    return new AppInstance(id, port, metricsPorts[index] as number, env, entry);
  });
  const appsBegan = Date.now();
  // Prometheus starts with the instances: its first scrapes come up to 5 s after it starts (see settled()).
  const prometheusStart = startPrometheus({
    targets: instances.map((i) => ({ host: "127.0.0.1", port: i.metricsPort, name: i.id })),
    forScale: options.alertForScale,
  });
  const [started, prometheusResult] = await Promise.all([
    Promise.allSettled(instances.map((instance) => instance.start())),
    Promise.allSettled([prometheusStart]),
  ]);
  const prometheusStarted = prometheusResult[0];
  const stop = async (): Promise<void> => {
    await Promise.allSettled(instances.filter((i) => i.running).map((i) => i.stop()));
    await Promise.allSettled([
      nginx.stop(),
      backing.stop(),
      ...livekit.map((lk) => lk.process.stop()),
      prometheusStarted.status === "fulfilled" ? prometheusStarted.value.stop() : undefined,
    ]);
  };
  const failure = [...started, prometheusStarted].find((result) => result.status === "rejected");
  if (failure !== undefined) {
    await stop();
    throw (failure as PromiseRejectedResult).reason as Error;
  }
  try {
    await waitFor(async () => (await fetch(`${nginx.url}/healthz`, { signal: AbortSignal.timeout(1000) })).ok, {
      timeoutMs: 5000,
      what: `the load balancer ${nginx.url} to answer /healthz`,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const appsReady = Date.now() - appsBegan;
  const prometheus = (prometheusStarted as PromiseFulfilledResult<LocalPrometheus>).value;
  try {
    await prometheus.settled();
  } catch (error) {
    await stop();
    throw error;
  }
  const total = Date.now() - began;
  progress(`app instances ready in ${(appsReady / 1000).toFixed(1)} s; cluster ready in ${(total / 1000).toFixed(1)} s`);
  return {
    url: nginx.url,
    nginx,
    instances,
    backing,
    livekit,
    authSecret,
    allowedOrigins,
    prometheus,
    startupMs: { backingServices: backingReady, appInstances: appsReady, total },
    stop,
  };
}
