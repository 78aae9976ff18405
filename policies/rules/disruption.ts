/**
 * Rule 6: voluntary disruptions (node drains, upgrades) and autoscaling never take a Deployment below
 * its HA floor: a PodDisruptionBudget selects every Deployment's pods with an effective `minAvailable`
 * of at least 2 but below the replica count, so drains still make progress (stack check), and an HPA
 * targeting a Deployment never scales it below 3.
 */
import * as k8s from "@pulumi/kubernetes";
import { validateResourceOfType, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { podLabelsOf, replicasOf, sameNamespace, selectorMatches, singletonReason } from "./kubernetes-objects";
import { describe, field, message, num, subject, text, type Props } from "./props";
import { configSchemaOf, integerSetting, readSettings } from "./settings";

/** How many of `replicas` pods a PodDisruptionBudget keeps available, and how it says so. */
export interface BudgetFloor {
  /** e.g. `spec.minAvailable is 2`, `spec.maxUnavailable is "50%" (of 3 replicas)`. */
  found: string;
  /** Pods the budget keeps available, or `undefined` if it sets neither field. */
  available: number | undefined;
}

/** Resolves an IntOrString against a replica count (percentages round up, as Kubernetes does). */
function resolveCount(value: unknown, replicas: number): number | undefined {
  const integer = num(value);
  if (integer !== undefined) return integer;
  const raw = text(value);
  if (raw === undefined) return undefined;
  const percent = /^(\d+)%$/.exec(raw);
  if (percent) return Math.ceil((Number(percent[1]) * replicas) / 100);
  return /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** The pods a budget keeps available for a Deployment of `replicas` pods. */
export function budgetFloor(budget: Props, replicas: number): BudgetFloor {
  const minAvailable = field(budget, "spec", "minAvailable");
  if (minAvailable !== undefined) {
    return { found: `spec.minAvailable is ${describe(minAvailable)}`, available: resolveCount(minAvailable, replicas) };
  }
  const maxUnavailable = field(budget, "spec", "maxUnavailable");
  if (maxUnavailable !== undefined) {
    const unavailable = resolveCount(maxUnavailable, replicas);
    return {
      found: `spec.maxUnavailable is ${describe(maxUnavailable)} (of ${replicas} replicas)`,
      available: unavailable === undefined ? undefined : Math.max(0, replicas - unavailable),
    };
  }
  return { found: "spec.minAvailable is unset", available: undefined };
}

const budgetSettings = {
  minAvailable: integerSetting(2, 1, "Pods a PodDisruptionBudget must keep available for each Deployment."),
};

export const podDisruptionBudget: StackValidationPolicy = {
  name: "pod-disruption-budget",
  description: "Every Deployment has a PodDisruptionBudget selecting its pods that keeps enough of them during drains and upgrades.",
  configSchema: configSchemaOf(budgetSettings),
  validateStack: (args, reportViolation) => {
    const { minAvailable } = readSettings(args, budgetSettings);
    const budgets = args.resources.filter((r) => r.isType(k8s.policy.v1.PodDisruptionBudget));
    for (const deployment of args.resources.filter((r) => r.isType(k8s.apps.v1.Deployment))) {
      // A singleton's only pod cannot be kept available through a drain: a budget would block the drain for good.
      if (singletonReason(deployment.props) !== undefined) continue;
      const labels = podLabelsOf(deployment.props);
      const replicas = replicasOf(deployment.props).effective;
      const selecting = budgets.filter(
        (budget) => sameNamespace(budget.props, deployment.props) && selectorMatches(field(budget.props, "spec", "selector"), labels),
      );
      if (selecting.length === 0) {
        reportViolation(
          message({
            resource: subject(deployment.type, deployment.name),
            property: "PodDisruptionBudget selecting its pods",
            found: "none",
            required: `one with minAvailable at least ${minAvailable}`,
            reason: "Without one a node drain or cluster upgrade may evict every replica at once.",
          }),
          deployment.urn,
        );
        continue;
      }
      const floors = selecting.map((budget) => ({ budget, floor: budgetFloor(budget.props, replicas) }));
      for (const { budget, floor } of floors.filter(({ floor }) => floor.available !== undefined && floor.available >= replicas)) {
        reportViolation(
          `${subject(budget.type, budget.name)} (selects ${subject(deployment.type, deployment.name)}): ${floor.found}, keeping ${floor.available} of ` +
            `${replicas} replicas available; required fewer than the replicas (at most ${replicas - 1}). ` +
            "A budget that never allows an eviction blocks every node drain, so cluster upgrades and node replacement hang.",
          budget.urn,
        );
      }
      if (floors.some(({ floor }) => floor.available !== undefined && floor.available >= minAvailable)) continue;
      for (const { budget, floor } of floors) {
        reportViolation(
          `${subject(budget.type, budget.name)} (selects ${subject(deployment.type, deployment.name)}): ${floor.found}` +
            `${floor.available === undefined ? "" : `, keeping ${floor.available} available`}; required minAvailable at least ${minAvailable}. ` +
            "A drain could otherwise take the Deployment below the replicas it needs to survive another failure.",
          budget.urn,
        );
      }
    }
  },
};

const autoscalerSettings = {
  minReplicas: integerSetting(3, 1, "Lowest spec.minReplicas of an HPA that scales a Deployment."),
};

export const hpaMinReplicas: ResourceValidationPolicy = {
  name: "hpa-min-replicas",
  description: "An autoscaler never scales a Deployment below its HA floor.",
  configSchema: configSchemaOf(autoscalerSettings),
  validateResource: validateResourceOfType(k8s.autoscaling.v2.HorizontalPodAutoscaler, (_hpa, args, reportViolation) => {
    if (field(args.props, "spec", "scaleTargetRef", "kind") !== "Deployment") return args.notApplicable("only autoscalers of Deployments");
    const { minReplicas } = readSettings(args, autoscalerSettings);
    const raw = field(args.props, "spec", "minReplicas");
    const value = num(raw);
    if (value !== undefined && value >= minReplicas) return;
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: "spec.minReplicas",
        found: raw === undefined ? "unset (Kubernetes defaults to 1)" : describe(raw),
        required: `at least ${minReplicas}`,
        reason: "At night the autoscaler would otherwise scale the Deployment down to a single point of failure.",
      }),
    );
  }),
};

/** Rule 6. */
export const disruptionPolicies = [podDisruptionBudget, hpaMinReplicas];
