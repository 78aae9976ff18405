/**
 * Rule 5: Deployments survive node loss and rollouts, and run hardened.
 *
 * Replicas; a RollingUpdate that never takes a ready pod away (`maxUnavailable: 0`); readiness and
 * liveness probes; resource requests and limits; replicas forced onto distinct nodes; non-root,
 * unprivileged containers; images pinned to a tag other than `latest` (or a digest).
 */
import * as k8s from "@pulumi/kubernetes";
import {
  validateResourceOfType,
  type ReportViolation,
  type ResourceValidation,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
} from "@pulumi/policy";
import { containersOf, podSpecOf, replicasOf, singletonReason, spreadsAcrossNodes, HOSTNAME_TOPOLOGY_KEY } from "./kubernetes-objects";
import { describe, field, message, record, subject, text, type Props } from "./props";
import { configSchemaOf, integerSetting, readSettings, stringListSetting } from "./settings";

/** A check of one Deployment's properties. */
type DeploymentCheck = (deployment: Props, args: ResourceValidationArgs, reportViolation: ReportViolation) => void;

/** A validation of Deployments only (typed on the provider class, so the engine can skip other types). */
function validateDeployment(check: DeploymentCheck): ResourceValidation {
  return validateResourceOfType(k8s.apps.v1.Deployment, (_deployment, args, reportViolation) => check(args.props, args, reportViolation));
}

const replicasSettings = {
  minReplicas: integerSetting(3, 1, "Minimum spec.replicas of a Deployment."),
};

export const deploymentReplicas: ResourceValidationPolicy = {
  name: "deployment-replicas",
  description: "Deployments run enough replicas to lose a pod (or a node) and still serve.",
  configSchema: configSchemaOf(replicasSettings),
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    const { minReplicas } = readSettings(args, replicasSettings);
    const replicas = replicasOf(deployment);
    const singleton = singletonReason(deployment);
    if (singleton !== undefined) {
      if (replicas.effective === 1) return;
      reportViolation(
        message({
          resource: subject(args.type, args.name),
          property: "spec.replicas",
          found: describe(replicas.value),
          required: "exactly 1 (it is annotated a singleton)",
          reason: `A singleton must never run twice at once: ${singleton}`,
        }),
      );
      return;
    }
    if (replicas.value !== undefined && replicas.value >= minReplicas) return;
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: "spec.replicas",
        found: replicas.value === undefined ? "unset (Kubernetes defaults to 1)" : describe(replicas.value),
        required: `at least ${minReplicas}`,
        reason: "Fewer replicas turn a pod eviction, a crash or a node loss into an outage.",
      }),
    );
  }),
};

/** Whether an IntOrString means zero (`0`, `"0"`, `"0%"`). */
function isZero(value: unknown): boolean {
  return value === 0 || value === "0" || value === "0%";
}

export const deploymentRollingUpdate: ResourceValidationPolicy = {
  name: "deployment-rolling-update",
  description: "Deployments roll out with RollingUpdate and maxUnavailable 0: a new pod is ready before an old one goes.",
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    const resource = subject(args.type, args.name);
    const strategy = record(field(deployment, "spec", "strategy"));
    const type = strategy?.type;
    if (singletonReason(deployment) !== undefined) {
      if (type === "Recreate") return;
      reportViolation(
        message({
          resource,
          property: "spec.strategy.type",
          found: describe(type),
          required: '"Recreate" (it is annotated a singleton)',
          reason: "A rolling update starts the new pod before the old one stops: for a moment the singleton runs twice.",
        }),
      );
      return;
    }
    if (type !== undefined && type !== "RollingUpdate") {
      reportViolation(
        message({
          resource,
          property: "spec.strategy.type",
          found: describe(type),
          required: '"RollingUpdate"',
          reason: "Recreate stops every pod before starting the new ones: each deploy is an outage.",
        }),
      );
      return;
    }
    const maxUnavailable = field(strategy, "rollingUpdate", "maxUnavailable");
    if (isZero(maxUnavailable)) return;
    reportViolation(
      message({
        resource,
        property: "spec.strategy.rollingUpdate.maxUnavailable",
        found: maxUnavailable === undefined ? 'unset (Kubernetes defaults to "25%")' : describe(maxUnavailable),
        required: "0",
        reason: "Anything above 0 lets a rollout take ready pods away before their replacements are ready.",
      }),
    );
  }),
};

export const deploymentProbes: ResourceValidationPolicy = {
  name: "deployment-probes",
  description: "Every container has a readiness probe (traffic only to ready pods) and a liveness probe (hung pods restart).",
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    for (const { path, label, container } of containersOf(podSpecOf(deployment))) {
      for (const probe of ["readinessProbe", "livenessProbe"] as const) {
        if (record(container[probe])) continue;
        reportViolation(
          message({
            resource: `${subject(args.type, args.name)} container "${label}"`,
            property: `${path}.${probe}`,
            found: describe(container[probe]),
            required: "a probe",
            reason:
              probe === "readinessProbe"
                ? "Without it the load balancer sends traffic to pods that cannot serve (starting, draining, cut off from Valkey)."
                : "Without it a hung process keeps its sockets and never restarts.",
          }),
        );
      }
    }
  }),
};

const resourcesSettings = {
  requiredRequests: stringListSetting(["cpu", "memory"], "Resources every container must request."),
  requiredLimits: stringListSetting(
    ["memory"],
    "Resources every container must limit (CPU limits throttle latency, so only memory by default).",
  ),
};

export const deploymentResources: ResourceValidationPolicy = {
  name: "deployment-resources",
  description: "Every container declares resource requests (so the scheduler spreads load) and limits (so one pod cannot starve a node).",
  configSchema: configSchemaOf(resourcesSettings),
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    const { requiredRequests, requiredLimits } = readSettings(args, resourcesSettings);
    for (const { path, label, container } of containersOf(podSpecOf(deployment))) {
      for (const [kind, required] of [
        ["requests", requiredRequests],
        ["limits", requiredLimits],
      ] as const) {
        const declared = record(field(container, "resources", kind)) ?? {};
        const missing = required.filter((name) => declared[name] === undefined || declared[name] === null || declared[name] === "");
        if (missing.length === 0) continue;
        reportViolation(
          message({
            resource: `${subject(args.type, args.name)} container "${label}"`,
            property: `${path}.resources.${kind}`,
            found: describe(field(container, "resources", kind)),
            required: `${kind} for ${required.join(" and ")} (missing: ${missing.join(", ")})`,
          }),
        );
      }
    }
  }),
};

export const deploymentSpread: ResourceValidationPolicy = {
  name: "deployment-spread",
  description:
    "Deployments force their replicas onto distinct nodes (hostname topology spread with DoNotSchedule, or required anti-affinity).",
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    if (spreadsAcrossNodes(deployment) || singletonReason(deployment) !== undefined) return; // one pod: nothing to spread
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: "spec.template.spec.topologySpreadConstraints / affinity.podAntiAffinity",
        found: describe(field(podSpecOf(deployment), "topologySpreadConstraints")),
        required: `a DoNotSchedule topology spread constraint (or a required pod anti-affinity) on ${HOSTNAME_TOPOLOGY_KEY} that selects the pod's labels`,
        reason: "Otherwise the scheduler may put every replica on one node, and that node is a single point of failure.",
      }),
    );
  }),
};

export const deploymentPodSecurity: ResourceValidationPolicy = {
  name: "deployment-pod-security",
  description: "Containers run as non-root and unprivileged.",
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    const podSpec = podSpecOf(deployment);
    const podRunAsNonRoot = field(podSpec, "securityContext", "runAsNonRoot");
    for (const { path, label, container } of containersOf(podSpec, true)) {
      const resource = `${subject(args.type, args.name)} container "${label}"`;
      const own = field(container, "securityContext", "runAsNonRoot");
      const effective = own ?? podRunAsNonRoot;
      if (effective !== true) {
        reportViolation(
          message({
            resource,
            property: `${path}.securityContext.runAsNonRoot (or spec.template.spec.securityContext.runAsNonRoot)`,
            found: describe(effective),
            required: "true",
            reason: "A container running as root turns any code-execution bug into root on the node's kernel interface.",
          }),
        );
      }
      const privileged = field(container, "securityContext", "privileged");
      if (privileged === true) {
        reportViolation(
          message({
            resource,
            property: `${path}.securityContext.privileged`,
            found: describe(privileged),
            required: "false or unset",
            reason: "A privileged container has every capability and device of the node.",
          }),
        );
      }
    }
  }),
};

/** The tag and digest of an image reference (`registry:port/path:tag@sha256:...`). */
export function imageReference(image: string): { tag?: string; digest?: string } {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const colon = name.lastIndexOf(":");
  const tag = colon > name.lastIndexOf("/") ? name.slice(colon + 1) : undefined;
  return { tag: tag === "" ? undefined : tag, digest: digest === "" ? undefined : digest };
}

export const deploymentImageTag: ResourceValidationPolicy = {
  name: "deployment-image-tag",
  description: "Images are pinned: a tag other than latest, or a digest, so every replica and every rollback runs the same build.",
  validateResource: validateDeployment((deployment, args, reportViolation) => {
    for (const { path, label, container } of containersOf(podSpecOf(deployment), true)) {
      const image = text(container.image);
      const reference = image === undefined ? {} : imageReference(image);
      if (reference.digest !== undefined || (reference.tag !== undefined && reference.tag !== "latest")) continue;
      reportViolation(
        message({
          resource: `${subject(args.type, args.name)} container "${label}"`,
          property: `${path}.image`,
          found:
            image === undefined
              ? describe(container.image)
              : `${describe(image)} (${reference.tag === "latest" ? "tag latest" : "no tag: resolves to latest"})`,
          required: "an explicit tag other than latest (e.g. the commit SHA) or an @sha256 digest",
          reason: "A moving tag lets nodes run different builds and makes a rollback pull the broken image again.",
        }),
      );
    }
  }),
};

/** Rule 5. */
export const workloadPolicies = [
  deploymentReplicas,
  deploymentRollingUpdate,
  deploymentProbes,
  deploymentResources,
  deploymentSpread,
  deploymentPodSecurity,
  deploymentImageTag,
];
