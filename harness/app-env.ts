/**
 * The one builder of an app instance's environment (the contract is app/src/config.ts), used by the
 * tests, the local cluster and the benchmark. It sets what every instance needs and nothing else, so
 * the app's own defaults apply unless a caller overrides them; `FAST_TIMINGS` is the tests' override.
 */
export interface LivekitDeployment {
  name: string;
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface AppBackends {
  /** Valkey: in the cluster, the HAProxy endpoint that always routes to the current primary. */
  redisUrl: string;
  databaseUrl: string;
  replicaUrls?: readonly string[];
  livekit: readonly LivekitDeployment[];
  /** AUTH_JWT_SECRET (HS256). */
  authSecret: string;
}

/** Short intervals so tests observe heartbeats, purges and health changes quickly. */
export const FAST_TIMINGS: Readonly<Record<string, string>> = {
  REDIS_CONNECT_TIMEOUT_MS: "500",
  REDIS_ROLE_CHECK_INTERVAL_MS: "200",
  DB_CONNECT_TIMEOUT_MS: "500",
  DB_HEALTH_INTERVAL_MS: "200",
  LIVEKIT_HEALTH_INTERVAL_MS: "100",
  LIVEKIT_HEALTH_TIMEOUT_MS: "300",
  HEARTBEAT_INTERVAL_MS: "500",
  PRESENCE_TTL_SECONDS: "2",
  SHUTDOWN_DRAIN_SECONDS: "0",
};

/** The LiveKit deployments as the app reads them (LIVEKIT_DATACENTERS, a JSON list). */
export function livekitEnv(deployments: readonly LivekitDeployment[]): string {
  return JSON.stringify(deployments.map(({ name, url, apiKey, apiSecret }) => ({ name, url, apiKey, apiSecret })));
}

export function appEnvironment(
  backends: AppBackends,
  instance: {
    id: string;
    port: number;
    /** /metrics and the detailed /readyz; 0 (the default here): any free port. */ metricsPort?: number;
  },
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PORT: String(instance.port),
    METRICS_PORT: String(instance.metricsPort ?? 0),
    HOST: "127.0.0.1",
    INSTANCE_ID: instance.id,
    AUTH_JWT_SECRET: backends.authSecret,
    REDIS_URL: backends.redisUrl,
    DATABASE_URL: backends.databaseUrl,
    DATABASE_REPLICA_URLS: (backends.replicaUrls ?? []).join(","),
    LIVEKIT_DATACENTERS: livekitEnv(backends.livekit),
    ...overrides,
  };
}
