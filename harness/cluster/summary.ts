/**
 * What `npm run cluster` prints once the cluster is ready: one JSON line (`--json`), or the same as
 * a readable summary with a few ways to use and break the cluster by hand.
 */
import type { Cluster } from "./cluster";
import { signUserToken } from "../tokens";
import { LOCAL_ALERT_FOR_SCALE } from "../prometheus";

export interface ProcessEndpoint {
  url: string;
  pid: number;
}

export interface ClusterSummary {
  /** The load balancer. */
  url: string;
  /** `url`: the instance's public port (behind nginx); `metricsUrl`: its /metrics and detailed /readyz. */
  instances: Array<{ id: string; url: string; metricsUrl: string; pid: number }>;
  authSecret: string;
  /** CORS_ALLOWED_ORIGINS of every instance (`--allowed-origins`). */
  allowedOrigins: string[];
  livekit: Array<{ name: string; url: string; apiKey: string; apiSecret: string; pid: number }>;
  redis: {
    /** The HAProxy endpoint every instance uses: always the current primary. */
    url: string;
    haproxyPid: number;
    masterName: string;
    primary: ProcessEndpoint;
    replica: ProcessEndpoint;
    sentinels: ProcessEndpoint[];
  };
  postgres: {
    /** The formation's nodes as the summary was made (pid: the node's pg_auto_failover keeper, which runs its PostgreSQL). */
    primary: ProcessEndpoint & { name: string; dataDir: string };
    standby: ProcessEndpoint & { name: string; dataDir: string };
    monitor: ProcessEndpoint;
    /** HAProxy: always the current writable primary, unpooled. */
    endpoint: ProcessEndpoint;
    /** PgBouncer in transaction mode in front of the endpoint: every instance's DATABASE_URL. */
    pool: ProcessEndpoint & { mode: "transaction" };
    /** The read-only replica (DATABASE_REPLICA_URLS), streaming through the endpoint. */
    replica: ProcessEndpoint & { dataDir: string };
  };
  nginx: { pid: number };
  /** The local Prometheus with the service's alert rules (alerts: `<url>/api/v1/alerts`). */
  prometheus: ProcessEndpoint;
  /** An access token for user "demo", valid for a day. */
  demoToken: string;
  startupMs: Cluster["startupMs"];
}

export async function clusterSummary(cluster: Cluster): Promise<ClusterSummary> {
  const { redis, postgres } = cluster.backing;
  const { livekit } = cluster;
  const node = (n: { url: string; process: { pid: number } }): ProcessEndpoint => ({ url: n.url, pid: n.process.pid });
  const primary = (await postgres.currentPrimary()) ?? postgres.formation.nodes[0];
  const standby = postgres.formation.nodes.find((n) => n !== primary) ?? postgres.formation.nodes[1];
  return {
    url: cluster.url,
    instances: cluster.instances.map((i) => ({ id: i.id, url: i.url, metricsUrl: i.metricsUrl, pid: i.pid })),
    authSecret: cluster.authSecret,
    allowedOrigins: cluster.allowedOrigins,
    livekit: livekit.map((lk) => ({ name: lk.name, url: lk.url, apiKey: lk.apiKey, apiSecret: lk.apiSecret, pid: lk.process.pid })),
    redis: {
      url: redis.endpoint.url,
      haproxyPid: redis.proxy.process.pid,
      masterName: redis.masterName,
      primary: node(redis.primary),
      replica: node(redis.replica),
      sentinels: redis.sentinels.map(node),
    },
    postgres: {
      primary: { ...node(primary), name: primary.name, dataDir: primary.dataDir },
      standby: { ...node(standby), name: standby.name, dataDir: standby.dataDir },
      monitor: node(postgres.formation.monitor),
      endpoint: node(postgres.endpoint),
      pool: { ...node(postgres.pool), mode: postgres.pool.mode },
      replica: { ...node(postgres.replica), dataDir: postgres.replica.dataDir },
    },
    nginx: { pid: cluster.nginx.process.pid },
    prometheus: { url: cluster.prometheus.url, pid: cluster.prometheus.process.pid },
    demoToken: await signUserToken(cluster.authSecret, "demo", { name: "Demo" }),
    startupMs: cluster.startupMs,
  };
}

const portOf = (url: string): string => new URL(url).port;

/** The summary for a terminal: addresses, pids, and how to use and break the cluster by hand. */
export function formatSummary(s: ClusterSummary): string {
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
  const primaryPort = portOf(s.redis.primary.url);
  const sentinelPort = portOf(s.redis.sentinels[0]?.url ?? "redis://x:0");
  const breakIt: Array<[string, string]> = [
    [`kill -9 ${s.instances[0]?.pid ?? "<pid>"}`, "an app instance crashes: its clients reconnect through nginx and resume with since="],
    [`kill -STOP ${s.redis.primary.pid}`, "the Valkey primary hangs: Sentinel fails over after 1 s (kill -CONT to thaw it)"],
    [`kill -9 ${s.redis.primary.pid}`, "the Valkey primary dies: Sentinel promotes the replica, HAProxy follows"],
    [
      `redis-cli -p ${primaryPort} CLIENT PAUSE 5000 WRITE`,
      "the Valkey primary holds every write for 5 s (DEBUG SLEEP is disabled in Redis 7)",
    ],
    [`redis-cli -p ${sentinelPort} SENTINEL get-master-addr-by-name ${s.redis.masterName}`, "which node is the primary now"],
    [`kill -9 ${s.postgres.replica.pid}`, "the PostgreSQL replica dies: reads move to the primary"],
    ["kill pg-primary (here)", "the PostgreSQL primary node dies: pg_auto_failover promotes the standby, writes answer 503 until then"],
  ];
  const width = Math.max(...breakIt.map(([command]) => command.length));
  const lines = [
    `GoMeet local cluster ready in ${seconds(s.startupMs.total)} (backing services ${seconds(s.startupMs.backingServices)}, app instances ${seconds(s.startupMs.appInstances)})`,
    "",
    `  load balancer  ${s.url}  (nginx pid ${s.nginx.pid})`,
    ...s.instances.map((i) => `  ${i.id.padEnd(13)}  ${i.url}  metrics ${i.metricsUrl}  (pid ${i.pid})`),
    `  Valkey         ${s.redis.url}  (HAProxy pid ${s.redis.haproxyPid}, routes to the primary only)`,
    `                 primary ${s.redis.primary.url} (pid ${s.redis.primary.pid}), replica ${s.redis.replica.url} (pid ${s.redis.replica.pid})`,
    `                 Sentinels ${s.redis.sentinels.map((x) => `${portOf(x.url)} (pid ${x.pid})`).join(", ")}, master name "${s.redis.masterName}"`,
    `  PostgreSQL     pool ${s.postgres.pool.url} (PgBouncer pid ${s.postgres.pool.pid}, ${s.postgres.pool.mode} mode: DATABASE_URL)`,
    `                 endpoint ${s.postgres.endpoint.url} (HAProxy pid ${s.postgres.endpoint.pid}, the writable primary only)`,
    `                 primary ${s.postgres.primary.name} ${s.postgres.primary.url}, standby ${s.postgres.standby.name} ${s.postgres.standby.url}`,
    `                 pg_auto_failover monitor ${s.postgres.monitor.url} (pid ${s.postgres.monitor.pid})`,
    `                 read-only replica ${s.postgres.replica.url} (pid ${s.postgres.replica.pid})`,
    `  Prometheus     ${s.prometheus.url}  (pid ${s.prometheus.pid}; the service's alert rules, for: x${LOCAL_ALERT_FOR_SCALE})`,
    ...s.livekit.map((lk) => `  ${lk.name.padEnd(13)}  ${lk.url}  (pid ${lk.pid})  key ${lk.apiKey}  secret ${lk.apiSecret}`),
    `  auth secret    ${s.authSecret}  (HS256, AUTH_JWT_SECRET of every instance)`,
    `  CORS origins   ${s.allowedOrigins.length > 0 ? s.allowedOrigins.join(", ") : "none (--allowed-origins)"}`,
    `  demo token     ${s.demoToken}`,
    "",
    "Try it:",
    `  TOKEN=${s.demoToken}`,
    `  curl -s ${s.url}/readyz                          # status only; the dependencies: ${s.instances[0]?.metricsUrl ?? "<metricsUrl>"}/readyz`,
    `  curl -s ${s.prometheus.url}/api/v1/alerts        # pending and firing alerts (kill an instance: GoMeetInstanceDown)`,
    `  curl -s -X POST -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d '{"name":"demo"}' ${s.url}/rooms`,
    `  curl -s -X POST -H "authorization: Bearer $TOKEN" ${s.url}/rooms/<id>/token`,
    `  WebSocket: ${s.url.replace(/^http/, "ws")}/ws?room=<id>&access_token=$TOKEN[&since=<last seq>]`,
    "",
    "Break it from another terminal:",
    ...breakIt.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`),
    "",
    "or here, one command per line on stdin (pieces come back at the same address):",
    "  status | kill <piece> | stop <piece> | start <piece> | pause <piece> | resume <piece>",
    `  pieces: ${[...s.instances.map((i) => i.id), "valkey-primary", "valkey-replica", "pg-primary", "pg-standby", "pg-replica", ...s.livekit.map((lk) => lk.name)].join(", ")}`,
    "",
    "Ctrl-C (SIGINT) or SIGTERM stops every process and removes the temporary directories.",
  ];
  return `${lines.join("\n")}\n`;
}
