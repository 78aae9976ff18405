/**
 * Rule 4: the DOKS cluster survives the loss of a control-plane instance or a node, and upgrades
 * without losing capacity: `ha` control plane, a node-pool floor (autoscale `minNodes`, or the fixed
 * `nodeCount`), surge upgrades.
 */
import * as digitalocean from "@pulumi/digitalocean";
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import { describe, message, num, record, subject } from "./props";
import { configSchemaOf, integerSetting, readSettings } from "./settings";

/** The node pool's guaranteed node count and where it came from. */
export interface NodeFloor {
  /** `nodePool.minNodes` when autoscaling, else `nodePool.nodeCount`. */
  property: string;
  value: number | undefined;
  /** The raw value, for messages. */
  raw: unknown;
}

/** The floor of a DOKS cluster's default node pool. */
export function nodeFloorOf(nodePool: unknown): NodeFloor {
  const pool = record(nodePool);
  const autoscaling = pool?.autoScale === true;
  const property = autoscaling ? "nodePool.minNodes" : "nodePool.nodeCount";
  const raw = autoscaling ? pool?.minNodes : pool?.nodeCount;
  return { property, value: num(raw), raw };
}

const doksSettings = {
  minNodes: integerSetting(3, 1, "Minimum nodes the default node pool may scale down to."),
};

export const doksHighAvailability: ResourceValidationPolicy = {
  name: "doks-high-availability",
  description: "The DOKS cluster has an HA control plane, a node-pool floor that survives a node loss, and surge upgrades.",
  configSchema: configSchemaOf(doksSettings),
  validateResource: validateResourceOfType(digitalocean.KubernetesCluster, (cluster, args, reportViolation) => {
    const { minNodes } = readSettings(args, doksSettings);
    const resource = subject(args.type, args.name);
    if (cluster.ha !== true) {
      reportViolation(
        message({
          resource,
          property: "ha",
          found: cluster.ha === undefined ? "unset (DigitalOcean defaults to false)" : describe(cluster.ha),
          required: "true",
          reason: "A single control-plane instance stops scheduling, scaling and self-healing while it is down or upgrading.",
        }),
      );
    }
    const floor = nodeFloorOf(cluster.nodePool);
    if (floor.value === undefined || floor.value < minNodes) {
      reportViolation(
        message({
          resource,
          property: floor.property,
          found: describe(floor.raw),
          required: `at least ${minNodes}`,
          reason: "With fewer nodes a node loss or drain leaves too little room to keep every replica on its own node.",
        }),
      );
    }
    if (cluster.surgeUpgrade !== true) {
      reportViolation(
        message({
          resource,
          property: "surgeUpgrade",
          found: describe(cluster.surgeUpgrade),
          required: "true",
          reason: "Without surge upgrades DigitalOcean drains nodes before replacing them, so capacity drops during every upgrade.",
        }),
      );
    }
  }),
};

/** Rule 4. */
export const kubernetesClusterPolicies = [doksHighAvailability];
