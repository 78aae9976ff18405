/**
 * The HA scorecard: every tier of the stack with its redundancy and whether it is a single point of
 * failure. The `no-single-point-of-failure` policy fails on each flagged tier; the offline preview
 * prints the table.
 *
 * A plain function of PlannedResource-like data (type, name, URN, props, dependency URNs), so the
 * policy (over the engine's resources) and the preview (over its plan) compute the same rows.
 */
import { doLoadBalancerAnnotation, LIVEKIT_DEPLOYMENTS_ANNOTATION } from "../../infra/annotations";
import { TYPE } from "../../infra/type-tokens";
import { CACHE_ENGINES, POSTGRES_ENGINE } from "./databases";
import { nodeFloorOf } from "./kubernetes-cluster";
import { livekitDeploymentsOf, replicasOf, singletonReason, spreadsAcrossNodes } from "./kubernetes-objects";
import { isLoadBalancerService } from "./load-balancer";
import { regionTier } from "./region-tier";
import type { ScorecardInput, ScorecardTier } from "./scorecard-types";

export type { ScorecardInput, ScorecardTier };
import { describe, field, message, num, record, stringMap, subject, text } from "./props";

/** Below these counts a tier is a single point of failure. */
export interface ScorecardThresholds {
  minAppReplicas: number;
  minKubernetesNodes: number;
  minPostgresNodes: number;
  minValkeyNodes: number;
  minLivekitDeployments: number;
  /** Below this many DigitalOcean regions the region is a single point of failure that fails the policy; at 1 (staging) one region is an accepted risk. */
  minRegions: number;
}

/** Two of everything: the definition of "no single point of failure". */
export const DEFAULT_SCORECARD_THRESHOLDS: Readonly<ScorecardThresholds> = Object.freeze({
  minAppReplicas: 2,
  minKubernetesNodes: 2,
  minPostgresNodes: 2,
  minValkeyNodes: 2,
  minLivekitDeployments: 2,
  minRegions: 2,
});

const TYPES = {
  cluster: TYPE.databaseCluster,
  replica: TYPE.databaseReplica,
  doks: TYPE.kubernetesCluster,
  deployment: TYPE.deployment,
  service: TYPE.service,
} as const;

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Labels each row of a tier, adding the resource name when the tier has several. */
function labelled(tier: string, rows: Omit<ScorecardTier, "tier">[]): ScorecardTier[] {
  return rows.map((row) => ({ tier: rows.length > 1 && row.resource ? `${tier} (${row.resource})` : tier, ...row }));
}

/** The row of a tier the stack does not contain. */
function missingTier(tier: string, what: string, required: string): ScorecardTier {
  return { tier, redundancy: "none in this stack", spof: true, reason: `${what}: none found; required ${required}.` };
}

function rowFor(resource: ScorecardInput, redundancy: string, failing?: { property: string; found: string; required: string }) {
  return {
    redundancy,
    spof: failing !== undefined,
    resource: resource.name,
    urn: resource.urn,
    reason: failing && message({ resource: subject(resource.type, resource.name), ...failing }),
  };
}

function loadBalancerTier(services: ScorecardInput[]): ScorecardTier[] {
  if (services.length === 0) {
    return [missingTier("load balancer", "Service of type LoadBalancer", "one DigitalOcean load balancer in front of the app replicas")];
  }
  return labelled(
    "load balancer",
    services.map((service) => {
      const annotations = stringMap(field(service.props, "metadata", "annotations"));
      const type = annotations[doLoadBalancerAnnotation("type")] ?? "default-type";
      const units = annotations[doLoadBalancerAnnotation("size-unit")] ?? "1";
      return rowFor(service, `managed ${type} load balancer, ${plural(Number(units) || 1, "size unit")} (redundant at DigitalOcean)`);
    }),
  );
}

function appTier(deployments: ScorecardInput[], minReplicas: number): ScorecardTier[] {
  if (deployments.length === 0) return [missingTier("app", "Deployment", `one running at least ${minReplicas} replicas`)];
  return labelled(
    "app",
    deployments.map((deployment) => {
      const replicas = replicasOf(deployment.props);
      const singleton = singletonReason(deployment.props);
      if (singleton !== undefined) {
        // Accepted, never hidden: it does not serve users; what its absence costs is in its reason.
        return {
          ...rowFor(deployment, `${plural(replicas.effective, "replica")} (a singleton by design)`),
          spof: true,
          accepted: singleton,
        };
      }
      const placement = spreadsAcrossNodes(deployment.props) ? "one per node" : "may share a node";
      const redundancy = `${plural(replicas.effective, "replica")} (${placement})`;
      return rowFor(
        deployment,
        redundancy,
        replicas.effective < minReplicas
          ? {
              property: "spec.replicas",
              found: replicas.value === undefined ? "unset (1)" : describe(replicas.value),
              required: `at least ${minReplicas}`,
            }
          : undefined,
      );
    }),
  );
}

function controlPlaneTier(clusters: ScorecardInput[]): ScorecardTier[] {
  if (clusters.length === 0) return [missingTier("Kubernetes control plane", "KubernetesCluster", "an HA DOKS cluster")];
  return labelled(
    "Kubernetes control plane",
    clusters.map((cluster) =>
      cluster.props.ha === true
        ? rowFor(cluster, "HA control plane (replicated by DigitalOcean)")
        : rowFor(cluster, "single control-plane instance", { property: "ha", found: describe(cluster.props.ha), required: "true" }),
    ),
  );
}

function nodesTier(clusters: ScorecardInput[], minNodes: number): ScorecardTier[] {
  if (clusters.length === 0) return [missingTier("Kubernetes nodes", "KubernetesCluster", `a node pool of at least ${minNodes} nodes`)];
  return labelled(
    "Kubernetes nodes",
    clusters.map((cluster) => {
      const pool = record(cluster.props.nodePool);
      const floor = nodeFloorOf(pool);
      const max = num(pool?.maxNodes);
      const redundancy =
        pool?.autoScale === true
          ? `${floor.value ?? "?"}–${max ?? "?"} nodes (autoscaling)`
          : `${plural(floor.value ?? 0, "node")} (fixed)`;
      return rowFor(
        cluster,
        redundancy,
        floor.value === undefined || floor.value < minNodes
          ? { property: floor.property, found: describe(floor.raw), required: `at least ${minNodes}` }
          : undefined,
      );
    }),
  );
}

function databaseNodes(nodeCount: number): string {
  if (nodeCount <= 1) return "1 node (primary only)";
  const standbys = nodeCount - 1;
  return `${nodeCount} nodes (primary + ${standbys === 1 ? "standby" : `${standbys} standbys`})`;
}

function databaseTier(
  tier: string,
  clusters: ScorecardInput[],
  replicas: ScorecardInput[],
  minNodes: number,
  withReplicas: boolean,
): ScorecardTier[] {
  if (clusters.length === 0) return [missingTier(tier, `${tier} DatabaseCluster`, `a cluster of at least ${minNodes} nodes`)];
  return labelled(
    tier,
    clusters.map((cluster) => {
      const raw = cluster.props.nodeCount;
      const nodeCount = num(raw) ?? 1;
      const readReplicas = replicas.filter((r) => r.dependencies.includes(cluster.urn)).length;
      const redundancy = withReplicas ? `${databaseNodes(nodeCount)} + ${plural(readReplicas, "read replica")}` : databaseNodes(nodeCount);
      return rowFor(
        cluster,
        redundancy,
        nodeCount < minNodes
          ? {
              property: "nodeCount",
              found: raw === undefined ? "unset (1)" : describe(raw),
              required: `at least ${minNodes} (primary + standby)`,
            }
          : undefined,
      );
    }),
  );
}

function livekitTier(deployments: ScorecardInput[], minDeployments: number): ScorecardTier[] {
  const announcing = deployments.filter((d) => livekitDeploymentsOf(d.props).length > 0);
  if (announcing.length === 0) {
    return [
      missingTier(
        "LiveKit",
        `Deployment annotating its pods with ${LIVEKIT_DEPLOYMENTS_ANNOTATION}`,
        `at least ${minDeployments} LiveKit deployments`,
      ),
    ];
  }
  return labelled(
    "LiveKit",
    announcing.map((deployment) => {
      const names = livekitDeploymentsOf(deployment.props);
      return rowFor(
        deployment,
        `${plural(names.length, "deployment")} (${names.join(", ")})${names.length > 1 ? " with token failover" : ""}`,
        names.length < minDeployments
          ? {
              property: `spec.template.metadata.annotations["${LIVEKIT_DEPLOYMENTS_ANNOTATION}"]`,
              found: describe(names.join(",")),
              required: `at least ${minDeployments} LiveKit deployments`,
            }
          : undefined,
      );
    }),
  );
}

/** What would remove the single-region risk (printed with the accepted row). */
/** The scorecard: load balancer, app, Kubernetes control plane and nodes, PostgreSQL, Valkey, LiveKit, region. */
export function haScorecard(resources: readonly ScorecardInput[], thresholds: Partial<ScorecardThresholds> = {}): ScorecardTier[] {
  const limits = { ...DEFAULT_SCORECARD_THRESHOLDS, ...thresholds };
  const ofType = (type: string) => resources.filter((r) => r.type === type);
  const engineOf = (r: ScorecardInput) => text(r.props.engine) ?? "";
  const clusters = ofType(TYPES.cluster);
  const deployments = ofType(TYPES.deployment);
  const doks = ofType(TYPES.doks);
  return [
    ...loadBalancerTier(ofType(TYPES.service).filter((s) => isLoadBalancerService(s.props))),
    ...appTier(deployments, limits.minAppReplicas),
    ...controlPlaneTier(doks),
    ...nodesTier(doks, limits.minKubernetesNodes),
    ...databaseTier(
      "PostgreSQL",
      clusters.filter((c) => engineOf(c) === POSTGRES_ENGINE),
      ofType(TYPES.replica),
      limits.minPostgresNodes,
      true,
    ),
    ...databaseTier(
      "Valkey",
      clusters.filter((c) => CACHE_ENGINES.includes(engineOf(c))),
      [],
      limits.minValkeyNodes,
      false,
    ),
    ...livekitTier(deployments, limits.minLivekitDeployments),
    ...regionTier(resources, limits.minRegions),
  ];
}
