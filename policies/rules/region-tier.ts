/**
 * The region tier of the HA scorecard. Every DigitalOcean resource with a region lives in one; with one region the
 * region is a single point of failure (an accepted risk only where `minRegions` is 1, e.g. staging). With two or more,
 * each region other than the primary database's must be a standby able to take over: a Kubernetes cluster, Valkey,
 * a read-only node of the primary PostgreSQL cluster behind its own firewall, and the app behind its own load
 * balancer; and a Global Load Balancer must put every region behind one entry with region priorities.
 *
 * The row states the expected RTO and RPO and what bounds them, read from the failover controller's Deployment
 * annotations (infra/failover-controller.ts): RTO = the detection window + the steps (promotion time is not published
 * by DigitalOcean: a game-day figure), RPO = the replication lag at the moment of loss, alerted above its threshold.
 */
import { FAILOVER_ANNOTATIONS } from "../../infra/annotations";
import { TYPE } from "../../infra/type-tokens";
import { POSTGRES_ENGINE, CACHE_ENGINES } from "./databases";
import { isLoadBalancerService } from "./load-balancer";
import { describe, field, list, message, num, record, stringMap, text } from "./props";
import type { ScorecardInput, ScorecardTier } from "./scorecard-types";

export const REGION_RISK =
  "a regional outage takes the whole stack down. Removing it takes a standby region (gomeet:standby: its own VPC range, " +
  "cluster, Valkey and app, a cross-region read-only node of PostgreSQL) behind a Global Load Balancer, and the failover controller";

const plural = (count: number, one: string) => `${count} ${count === 1 ? one : `${one}s`}`;
const regionOf = (r: ScorecardInput) => text(r.props.region);

/** What a standby region lacks (empty when it has everything). */
function standbyGaps(region: string, resources: readonly ScorecardInput[], primaryCluster: ScorecardInput): string[] {
  const of = (type: string) => resources.filter((r) => r.type === type && regionOf(r) === region);
  const gaps: string[] = [];
  if (of(TYPE.kubernetesCluster).length === 0) gaps.push("a Kubernetes cluster");
  if (!of(TYPE.databaseCluster).some((c) => CACHE_ENGINES.includes(text(c.props.engine) ?? ""))) gaps.push("a Valkey cluster");
  const nodes = of(TYPE.databaseReplica).filter((r) => r.dependencies.includes(primaryCluster.urn));
  if (nodes.length === 0) gaps.push(`a read-only node of ${primaryCluster.name} (DatabaseReplica with region ${region})`);
  const firewalled = nodes.some((node) =>
    resources.some((r) => r.type === TYPE.databaseFirewall && r.dependencies.includes(node.urn) && list(r.props.rules).length > 0),
  );
  if (nodes.length > 0 && !firewalled) gaps.push("a firewall of its own on the read-only node");
  return gaps;
}

/** The Global Load Balancer over the regions, or what is wrong with it. */
function glbGaps(resources: readonly ScorecardInput[], regions: string[], appEntries: number): string[] {
  const glbs = resources.filter((r) => r.type === TYPE.loadBalancer && text(r.props.type)?.toUpperCase() === "GLOBAL");
  if (glbs.length === 0) return ["a Global Load Balancer (LoadBalancer type GLOBAL) over the regions"];
  const glb = glbs[0]!;
  const priorities = record(field(glb.props, "glbSettings", "regionPriorities")) ?? {};
  const gaps: string[] = [];
  const missing = regions.filter((r) => priorities[r] === undefined);
  if (missing.length > 0) gaps.push(`GLB region priorities for ${missing.join(", ")}`);
  const targets = list(glb.props.targetLoadBalancerIds).length;
  if (targets < regions.length) gaps.push(`GLB targets for every region (${targets} of ${regions.length})`);
  if (appEntries < regions.length) gaps.push(`the app behind a load balancer in every region (${appEntries} of ${regions.length})`);
  return gaps;
}

/** Expected RTO and RPO, from the failover controller's annotations. */
function recoveryObjectives(resources: readonly ScorecardInput[]): string {
  const controller = resources.find(
    (r) => r.type === TYPE.deployment && stringMap(field(r.props, "metadata", "annotations"))[FAILOVER_ANNOTATIONS.mode],
  );
  if (!controller) return "RTO: manual failover (no controller); RPO: the replication lag at the moment of loss";
  const a = stringMap(field(controller.props, "metadata", "annotations"));
  const window = num(Number(a[FAILOVER_ANNOTATIONS.detectionWindowSeconds]));
  const lag = num(Number(a[FAILOVER_ANNOTATIONS.maxReplicationLagSeconds]));
  return (
    `failover ${a[FAILOVER_ANNOTATIONS.mode]}; RTO ≈ ${window ?? "?"} s detection + fence, promote, GLB switch ` +
    "(promotion time: a game-day figure); RPO = replication lag at the loss, alerted above " +
    `${lag ?? "?"} s; lost on failover: Valkey realtime state and in-flight calls (clients reconnect)`
  );
}

/** The region row (see the file comment). */
export function regionTier(resources: readonly ScorecardInput[], minRegions: number): ScorecardTier[] {
  const regional = resources.filter((r) => r.type.startsWith("digitalocean:") && typeof r.props.region === "string");
  const regions = [...new Set(regional.map((r) => r.props.region as string))].sort();
  if (regions.length === 0) return [];
  const primaryCluster = resources.find((r) => r.type === TYPE.databaseCluster && text(r.props.engine) === POSTGRES_ENGINE);
  const primaryRegion = primaryCluster ? regionOf(primaryCluster) : undefined;
  const names = regions.map((r) => (r === primaryRegion ? `${r} primary` : regions.length > 1 ? `${r} standby` : r));
  const redundancy = `${plural(regions.length, "DigitalOcean region")} (${names.join(", ")})`;
  const first = regional[0]!;
  const failing = (property: string, found: string, required: string): ScorecardTier => ({
    tier: "region",
    redundancy,
    spof: true,
    resource: first.name,
    urn: first.urn,
    reason: message({ resource: "Stack", property, found: describe(found), required }),
  });
  if (regions.length < 2) {
    const row = failing("DigitalOcean regions", regions.join(", "), `at least ${Math.max(2, minRegions)}`);
    return minRegions <= 1 ? [{ ...row, accepted: REGION_RISK }] : [row];
  }
  if (regions.length < minRegions) return [failing("DigitalOcean regions", regions.join(", "), `at least ${minRegions}`)];
  const appEntries = resources.filter((r) => r.type === TYPE.service && isLoadBalancerService(r.props)).length;
  const gaps = [
    ...(primaryCluster ? [] : ["a primary PostgreSQL cluster"]),
    ...regions
      .filter((r) => primaryCluster && r !== primaryRegion)
      .flatMap((r) => standbyGaps(r, resources, primaryCluster!).map((g) => `${r}: ${g}`)),
    ...glbGaps(resources, regions, appEntries),
  ];
  if (gaps.length > 0)
    return [failing("standby regions", `missing ${gaps.join("; ")}`, "each standby region able to take over, behind a GLB")];
  return [{ tier: "region", redundancy: `${redundancy} behind a GLB; ${recoveryObjectives(resources)}`, spof: false }];
}
