/**
 * The environment each app instance of the local cluster gets (the contract is app/src/config.ts).
 * Production defaults everywhere, except the shutdown drain: in Kubernetes it covers the time the
 * load balancer needs to stop routing to a terminating pod; the local nginx has nothing to
 * propagate (a draining instance refuses new WebSockets with 503 and nginx retries elsewhere), so a
 * short drain keeps rolling restarts quick.
 */
export interface LivekitDeployment {
  name: string;
  url: string;
  apiKey: string;
  apiSecret: string;
}

export interface AppBackends {
  /** The HAProxy endpoint that always routes to the current Valkey primary. */
  redisUrl: string;
  databaseUrl: string;
  replicaUrls: string[];
  livekit: LivekitDeployment[];
  authSecret: string;
}

export const LOCAL_DRAIN_SECONDS = 2;

export function appEnvironment(
  backends: AppBackends,
  instance: { id: string; port: number },
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    PORT: String(instance.port),
    HOST: "127.0.0.1",
    INSTANCE_ID: instance.id,
    LOG_LEVEL: "info",
    AUTH_JWT_SECRET: backends.authSecret,
    REDIS_URL: backends.redisUrl,
    DATABASE_URL: backends.databaseUrl,
    DATABASE_REPLICA_URLS: backends.replicaUrls.join(","),
    LIVEKIT_DATACENTERS: JSON.stringify(backends.livekit.map(({ name, url, apiKey, apiSecret }) => ({ name, url, apiKey, apiSecret }))),
    SHUTDOWN_DRAIN_SECONDS: String(LOCAL_DRAIN_SECONDS),
    ...overrides,
  };
}
