/**
 * Rule 10 (stack check): no single point of failure. Lists every tier with its redundancy (the HA
 * scorecard) and reports one violation per tier that has a single point of failure.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { DEFAULT_SCORECARD_THRESHOLDS, haScorecard, type ScorecardInput, type ScorecardThresholds } from "./scorecard";
import { configSchemaOf, integerSetting, readSettings } from "./settings";

export const NO_SINGLE_POINT_OF_FAILURE = "no-single-point-of-failure";

const d = DEFAULT_SCORECARD_THRESHOLDS;
const spofSettings = {
  minAppReplicas: integerSetting(d.minAppReplicas, 1, "Below this many app replicas the app tier is a single point of failure."),
  minKubernetesNodes: integerSetting(d.minKubernetesNodes, 1, "Below this node-pool floor the nodes are a single point of failure."),
  minPostgresNodes: integerSetting(d.minPostgresNodes, 1, "Below this many PostgreSQL nodes the database is a single point of failure."),
  minValkeyNodes: integerSetting(d.minValkeyNodes, 1, "Below this many Valkey nodes the cache is a single point of failure."),
  minLivekitDeployments: integerSetting(
    d.minLivekitDeployments,
    1,
    "Below this many LiveKit deployments media is a single point of failure.",
  ),
  minRegions: integerSetting(
    d.minRegions,
    1,
    "Below this many DigitalOcean regions the region fails this policy; at 1 a single region is reported as an accepted risk.",
  ),
};

/** The scorecard's view of an engine resource. */
export function scorecardInputOf(resource: PolicyResource): ScorecardInput {
  return {
    type: resource.type,
    name: resource.name,
    urn: resource.urn,
    props: resource.props,
    dependencies: resource.dependencies.map((dependency) => dependency.urn),
  };
}

/** The scorecard thresholds from this policy's configuration values. */
export function scorecardThresholdsOf(config: Partial<Record<keyof ScorecardThresholds, unknown>>): Partial<ScorecardThresholds> {
  return Object.fromEntries(
    Object.keys(spofSettings).flatMap((key) => {
      const value = config[key as keyof ScorecardThresholds];
      return typeof value === "number" ? [[key, value]] : [];
    }),
  );
}

export const noSinglePointOfFailure: StackValidationPolicy = {
  name: NO_SINGLE_POINT_OF_FAILURE,
  description:
    "No tier is a single point of failure: load balancer, app, Kubernetes control plane and nodes, PostgreSQL, Valkey and " +
    "LiveKit each survive the loss of one instance; one region is an accepted risk unless minRegions asks for more.",
  configSchema: configSchemaOf(spofSettings),
  validateStack: (args, reportViolation) => {
    const thresholds: ScorecardThresholds = readSettings(args, spofSettings);
    for (const tier of haScorecard(args.resources.map(scorecardInputOf), thresholds)) {
      if (!tier.spof || tier.accepted) continue;
      reportViolation(`Tier "${tier.tier}" is a single point of failure (${tier.redundancy}). ${tier.reason ?? ""}`.trim(), tier.urn);
    }
  },
};

/** Rule 10. */
export const singlePointOfFailurePolicies = [noSinglePointOfFailure];
