import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "./config";
import type { FailoverTopology } from "./failover-controller";
import type { GlobalLoadBalancer } from "./global-load-balancer";
import type { RegionCell } from "./region-cell";

/** Arguments of {@link failoverTopology}. */
export interface FailoverTopologyArgs {
  config: Pick<StackConfig, "postgres" | "standby">;
  primary: RegionCell;
  standby: RegionCell;
  glb: GlobalLoadBalancer;
}

/**
 * What the DigitalOcean failover driver acts on, from the stack's resources: the GLB, each region's load balancer,
 * endpoint and uptime check, the primary cluster's id and the standby node's name, what the restore step recreates
 * on the promoted cluster (the app's pool, a standby node), and the detection settings.
 */
export function failoverTopology(args: FailoverTopologyArgs): pulumi.Output<FailoverTopology> {
  const { config, primary, standby, glb } = args;
  const standbyConfig = config.standby!;
  const pg = config.postgres;
  return pulumi
    .all({
      glbId: glb.id,
      entryUrl: glb.endpoint,
      primaryLb: primary.loadBalancerId,
      primaryUrl: primary.regionalUrl,
      primaryCheck: primary.alerting.uptimeCheckId,
      databaseId: primary.postgres!.clusterId,
      standbyLb: standby.loadBalancerId,
      standbyUrl: standby.regionalUrl,
      standbyCheck: standby.alerting.uptimeCheckId,
      databaseName: standby.standbyDatabase!.name,
      standbyDatabaseId: standby.standbyDatabase!.uuid,
    })
    .apply((v): FailoverTopology => ({
      entryUrl: v.entryUrl,
      glbId: v.glbId,
      primary: {
        region: primary.region,
        loadBalancerId: v.primaryLb,
        url: v.primaryUrl,
        uptimeCheckId: v.primaryCheck,
        databaseId: v.databaseId,
      },
      standby: {
        region: standby.region,
        loadBalancerId: v.standbyLb,
        url: v.standbyUrl,
        uptimeCheckId: v.standbyCheck,
        databaseName: v.databaseName,
        databaseId: v.standbyDatabaseId,
      },
      restore: {
        pool: { name: `${pg.database}-pool`, mode: "transaction", size: pg.poolSize, db: pg.database, user: pg.user },
        size: pg.size,
        numNodes: pg.nodeCount,
      },
      detection: { windowSeconds: standbyConfig.detectionWindowSeconds, intervalSeconds: standbyConfig.probeIntervalSeconds },
      mode: standbyConfig.failover,
    }));
}
