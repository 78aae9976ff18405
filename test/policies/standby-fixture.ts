/**
 * The standby region of the policy-test stack (fixtures.ts), as infra/region-cell.ts makes it for prod: its own VPC and
 * HA cluster, Valkey, a read-only node of the primary PostgreSQL cluster behind its own firewall, the app's load
 * balancer, and a Global Load Balancer over both regions. (The standby's Kubernetes objects other than the load-balanced
 * Service are the primary's, already in the fixture: the pack checks them per object, not per region.)
 */
import type { PlannedResource } from "../../preview/plan";
import type { PlanBuilder } from "./plan-builder";
import { TYPES, type StackKnobs } from "./stack-knobs";

export const GLB_TYPE = "digitalocean:index/loadBalancer:LoadBalancer";

/** What the standby region refers to in the primary's part of the plan. */
export interface PrimaryParts {
  doks: PlannedResource;
  postgres: PlannedResource;
  service: PlannedResource;
  provider: PlannedResource;
}

export function addStandbyRegion(plan: PlanBuilder, k: StackKnobs, region: string, primary: PrimaryParts): void {
  const p = `gomeet-${k.stack}-${region}`;
  const cell = plan.component(region, "RegionCell");
  const vpc = plan.add(TYPES.vpc, `${p}-vpc`, { name: `${p}-vpc`, region, ipRange: "10.21.0.0/16" }, { parent: cell });
  const doks = plan.add(
    TYPES.doks,
    `${p}-doks`,
    { ...primary.doks.props, name: `${p}-doks`, region, tags: [p] },
    { parent: cell, dependsOn: [vpc] },
  );
  const valkey = plan.add(
    TYPES.cluster,
    `${p}-valkey`,
    {
      name: `${p}-valkey`,
      engine: k.valkeyEngine,
      version: "8",
      size: "db-s-1vcpu-2gb",
      nodeCount: k.valkeyNodeCount,
      evictionPolicy: k.evictionPolicy,
      region,
      privateNetworkUuid: "standby-vpc-id",
      maintenanceWindows: [{ day: "sunday", hour: "03:00:00" }],
      tags: [p],
    },
    { parent: cell, dependsOn: [vpc], protect: true },
  );
  plan.add(
    TYPES.firewall,
    `${p}-valkey-firewall`,
    { clusterId: "standby-valkey-id", rules: [{ type: "k8s", value: "standby-doks-id" }] },
    { parent: cell, dependsOn: [valkey, doks] },
  );
  const nodeName = `gomeet-${k.stack}-pg-${region}`;
  const node = plan.add(
    TYPES.replica,
    nodeName,
    {
      clusterId: "cluster-id",
      name: nodeName,
      size: "db-s-2vcpu-4gb",
      region,
      privateNetworkUuid: "standby-vpc-id",
      tags: [`gomeet-${k.stack}`],
    },
    { parent: cell, dependsOn: [primary.postgres, vpc] },
  );
  plan.add(
    TYPES.firewall,
    `${nodeName}-firewall`,
    { clusterId: "node-uuid", rules: [{ type: "k8s", value: "standby-doks-id" }] },
    { parent: cell, dependsOn: [node, doks] },
  );
  const service = plan.add(TYPES.service, `${p}-service`, primary.service.props, { parent: cell, dependsOn: [primary.provider] });
  // The cell's alerting, as for the primary: nodes, load balancer, Valkey, an uptime check of the region's own host.
  const targets = { emails: ["oncall@gomeet.example"], slacks: [] };
  const monitor = (key: string, type: string, watched: PlannedResource) =>
    plan.add(
      TYPES.monitorAlert,
      `${p}-${key}`,
      { type, compare: "GreaterThan", value: 80, window: "5m", entities: ["id"], description: key, enabled: true, alerts: targets },
      { parent: cell, dependsOn: [watched] },
    );
  for (const metric of ["cpu", "memory_utilization_percent", "disk_utilization_percent"]) {
    monitor(`node-${metric === "cpu" ? "cpu" : metric.split("_")[0]}`, `v1/insights/droplet/${metric}`, doks);
  }
  monitor("lb-5xx", "v1/insights/lbaas/increase_in_http_error_rate_count_5xx", service);
  for (const metric of ["cpu_alerts", "memory_utilization_alerts", "disk_utilization_alerts"]) {
    monitor(`valkey-${metric.split("_")[0]}`, `v1/dbaas/alerts/${metric}`, valkey);
  }
  const check = plan.add(
    TYPES.uptimeCheck,
    `${p}-uptime`,
    {
      name: `${p}-readyz`,
      target: `https://${region}.meet.gomeet.example/readyz`,
      type: "https",
      regions: ["us_east", "eu_west"],
      enabled: true,
    },
    { parent: cell },
  );
  plan.add(
    TYPES.uptimeAlert,
    `${p}-down`,
    { checkId: "check-id", name: `${p}-down`, type: "down_global", period: "2m", notifications: [targets] },
    { parent: cell, dependsOn: [check] },
  );
  plan.add(
    GLB_TYPE,
    `gomeet-${k.stack}-glb`,
    {
      name: `gomeet-${k.stack}-glb`,
      type: "GLOBAL",
      targetLoadBalancerIds: ["primary-lb-id", "standby-lb-id"],
      glbSettings: {
        targetProtocol: "https",
        targetPort: 443,
        regionPriorities: { nyc3: 1, [region]: 2 },
        failoverThreshold: 50,
        cdn: { isEnabled: false },
      },
      domains: [{ name: "meet.gomeet.example", isManaged: true, certificateName: `gomeet-${k.stack}-cert` }],
    },
    { dependsOn: [primary.service, service] },
  );
}
