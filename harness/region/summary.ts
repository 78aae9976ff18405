/**
 * What `npm run cluster -- --regions 2` prints once ready: every field of the single-region summary (region a's), with
 * `url` the global endpoint, plus `regions` (each region's role, load balancer and every process: killing them all is
 * losing the region), `globalEndpoint` and `failover` (the controller: in neither region's list).
 */
import { clusterSummary, formatSummary, type ClusterSummary } from "../cluster/summary";
import { PRIMARY_REGION, STANDBY_REGION, type TwoRegionCluster } from "./two-regions";

export interface RegionSummary {
  name: string;
  role: "primary" | "standby";
  /** The regional load balancer. */
  url: string;
  /** Every process of the region (root processes and their children) when the summary was made. */
  pids: number[];
  instances: Array<{ id: string; url: string; pid: number }>;
  /** The database the region's apps write to (region b: its read-only node until promoted). */
  database: { url: string };
  valkey: { url: string };
}

export interface TwoRegionSummary extends ClusterSummary {
  regions: RegionSummary[];
  globalEndpoint: { url: string; pid: number };
  failover: {
    mode: "automatic";
    driver: "local";
    from: string;
    to: string;
    failoverAfterSeconds: number;
    metricsUrl: string;
    journal: string;
  };
}

export async function twoRegionSummary(two: TwoRegionCluster): Promise<TwoRegionSummary> {
  const base = await clusterSummary(two.primary);
  const { primary, standby } = two;
  return {
    ...base,
    url: two.url,
    regions: [
      {
        name: PRIMARY_REGION,
        role: "primary",
        url: primary.url,
        pids: two.regionPids(PRIMARY_REGION),
        instances: base.instances,
        database: { url: primary.backing.postgres.pool.url },
        valkey: { url: primary.backing.redis.endpoint.url },
      },
      {
        name: STANDBY_REGION,
        role: "standby",
        url: standby.url,
        pids: two.regionPids(STANDBY_REGION),
        instances: standby.instances.map((i) => ({ id: i.id, url: i.url, pid: i.pid })),
        database: { url: standby.postgres.url },
        valkey: { url: standby.valkey.url },
      },
    ],
    globalEndpoint: { url: two.url, pid: two.global.process.pid },
    failover: {
      mode: "automatic",
      driver: "local",
      from: PRIMARY_REGION,
      to: STANDBY_REGION,
      failoverAfterSeconds: two.failoverAfterSeconds,
      metricsUrl: two.controllerMetricsUrl,
      journal: two.journalFile,
    },
  };
}

export function formatTwoRegionSummary(s: TwoRegionSummary): string {
  const lines = [
    `Two regions. Global endpoint ${s.globalEndpoint.url} (HAProxy pid ${s.globalEndpoint.pid}): region ${s.regions[0]?.name} first, region ${s.regions[1]?.name} as backup`,
    ...s.regions.map(
      (r) =>
        `  region ${r.name} (${r.role})  load balancer ${r.url}; ${r.instances.length} app instances; database ${r.database.url}; ${r.pids.length} processes`,
    ),
    `  failover controller: ${s.failover.mode}, region ${s.failover.from} declared lost after ${s.failover.failoverAfterSeconds} s; metrics ${s.failover.metricsUrl}`,
    `  lose region ${s.failover.from}: kill -9 ${s.regions[0]?.pids.join(" ")}   (or "kill region-${s.failover.from}" here)`,
    "",
    `Region ${s.failover.from} is the single-region cluster below; its "url" is the global endpoint.`,
    "",
  ];
  return `${lines.join("\n")}\n${formatSummary(s)}`;
}
