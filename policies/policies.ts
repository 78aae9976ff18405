/**
 * The GoMeet HA policy pack's contents: its name, default enforcement level and every policy, in the
 * order of the rule numbers in rules/*.ts. `index.ts` serves them to the Pulumi CLI; the offline runner evaluates
 * them directly. Importing this module never starts a server.
 */
import type { EnforcementLevel, Policies } from "@pulumi/policy";
import { alertingPolicies } from "./rules/alerting";
import { databaseNetworkPolicies } from "./rules/database-network";
import { databasePolicies } from "./rules/databases";
import { disruptionPolicies } from "./rules/disruption";
import { kubernetesClusterPolicies } from "./rules/kubernetes-cluster";
import { loadBalancerPolicies } from "./rules/load-balancer";
import { namespaceSecurityPolicies } from "./rules/namespace-security";
import { providerConformancePolicies } from "./rules/provider-conformance";
import { secretPolicies } from "./rules/secrets";
import { singlePointOfFailurePolicies } from "./rules/single-point-of-failure";
import { workloadPolicies } from "./rules/workloads";

/** The pack's name, as `pulumi preview --policy-pack` reports it. */
export const packName = "gomeet-ha";

/** Level of every policy that does not set its own. */
export const packEnforcementLevel: EnforcementLevel = "mandatory";

/** Every policy of the pack. */
export const policies: Policies = [
  ...databasePolicies,
  ...databaseNetworkPolicies,
  ...kubernetesClusterPolicies,
  ...workloadPolicies,
  ...disruptionPolicies,
  ...loadBalancerPolicies,
  ...alertingPolicies,
  ...secretPolicies,
  ...singlePointOfFailurePolicies,
  ...providerConformancePolicies,
  ...namespaceSecurityPolicies,
];
