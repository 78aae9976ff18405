/**
 * Rule 12: the app's namespace is locked down.
 *
 * - `namespace-default-deny`: a NetworkPolicy selecting every pod of a Deployment's namespace denies ingress
 *   and egress by default (policyTypes Ingress and Egress, no rule).
 * - `network-policy-allows`: under that default, the Deployment's pods are allowed ingress on a container port
 *   (or the load balancer reaches nothing) and egress to DNS on port 53 (or nothing resolves).
 * - `namespace-pod-security`: the namespace enforces, audits and warns on the `restricted` Pod Security
 *   Standard, each mode pinned to a `v<major>.<minor>` version.
 * - `workload-service-account`: the pods run as a ServiceAccount of their own (not `default`) that mounts no
 *   API token (`automountServiceAccountToken: false`), defined in the stack.
 * - `workload-priority-class`: the pods name a PriorityClass defined in the stack.
 * - `deployment-restricted-profile`: the pod spec satisfies `restricted` beyond non-root (which
 *   `deployment-pod-security` checks): seccomp RuntimeDefault or Localhost, no privilege escalation, every
 *   capability dropped (NET_BIND_SERVICE alone may be added back), no host namespaces, no hostPath volumes.
 */
import * as k8s from "@pulumi/kubernetes";
import {
  validateResourceOfType,
  type PolicyResource,
  type ReportViolation,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { containersOf, namespaceOf, podLabelsOf, podSpecOf, sameNamespace, selectorMatches } from "./kubernetes-objects";
import { describe, field, list, message, record, stringMap, subject, text, UNKNOWN, type Props } from "./props";
import { dependsOn } from "./relations";

const PSA = "pod-security.kubernetes.io";
const PSA_MODES = ["enforce", "audit", "warn"] as const;
const PINNED_VERSION = /^v\d+\.\d+$/;
const DEFAULT_DENY_SHAPE = "with podSelector {} and policyTypes [Ingress, Egress] and no rules";

/** Whether a label selector is empty (selects every pod of the namespace). */
function selectsEverything(selector: unknown): boolean {
  const bag = record(selector);
  return bag !== undefined && Object.keys(stringMap(bag.matchLabels)).length === 0 && list(bag.matchExpressions).length === 0;
}

/** The policy types of a NetworkPolicy as Kubernetes reads them (unset: Ingress, plus Egress if it has egress rules). */
function policyTypesOf(policy: Props): string[] {
  const declared = list(field(policy, "spec", "policyTypes")).filter((t): t is string => typeof t === "string");
  if (declared.length > 0) return declared;
  return field(policy, "spec", "egress") === undefined ? ["Ingress"] : ["Ingress", "Egress"];
}

/** The namespace a resource names, as a phrase for messages. */
function namespacePhrase(props: Props): string {
  const namespace = namespaceOf(props);
  return namespace === UNKNOWN ? "its namespace" : `namespace "${namespace}"`;
}

function deploymentsOf(resources: readonly PolicyResource[]): PolicyResource[] {
  return resources.filter((r) => r.isType(k8s.apps.v1.Deployment));
}

function networkPoliciesOf(resources: readonly PolicyResource[], deployment: PolicyResource): PolicyResource[] {
  return resources.filter((r) => r.isType(k8s.networking.v1.NetworkPolicy) && sameNamespace(r.props, deployment.props));
}

export const namespaceDefaultDeny: StackValidationPolicy = {
  name: "namespace-default-deny",
  description: "Every Deployment's namespace has a default-deny NetworkPolicy for ingress and egress.",
  validateStack: (args, reportViolation) => {
    for (const deployment of deploymentsOf(args.resources)) {
      const denies = networkPoliciesOf(args.resources, deployment).filter((policy) => {
        const types = policyTypesOf(policy.props);
        return (
          selectsEverything(field(policy.props, "spec", "podSelector")) &&
          types.includes("Ingress") &&
          types.includes("Egress") &&
          list(field(policy.props, "spec", "ingress")).length === 0 &&
          list(field(policy.props, "spec", "egress")).length === 0
        );
      });
      if (denies.length > 0) continue;
      reportViolation(
        message({
          resource: subject(deployment.type, deployment.name),
          property: `NetworkPolicy in ${namespacePhrase(deployment.props)} ${DEFAULT_DENY_SHAPE}`,
          found: "none",
          required: "one (a default deny; the service's needs are then allowed one by one)",
          reason:
            "Without it any pod of the cluster reaches the app and the app reaches anything: one compromised pod reaches every other.",
        }),
        deployment.urn,
      );
    }
  },
};

/** Ports as a NetworkPolicy rule lists them (numbers or names); an empty list means every port. */
function rulePorts(rule: Props): Array<{ port: unknown; protocol: string }> {
  return list(rule.ports).map((item) => ({ port: field(item, "port"), protocol: text(field(item, "protocol")) ?? "TCP" }));
}

/** Whether one of `rules` admits `port` (a number, or the container port's name). */
function admitsPort(rules: unknown[], ports: Array<{ number: unknown; name: unknown }>, protocol = "TCP"): boolean {
  return rules.some((item) => {
    const rule = record(item);
    if (!rule) return false;
    const listed = rulePorts(rule);
    if (listed.length === 0) return true;
    return listed.some(
      (p) =>
        p.protocol === protocol &&
        (p.port === undefined || ports.some((c) => c.number === p.port || (c.name !== undefined && c.name === p.port))),
    );
  });
}

export const networkPolicyAllows: StackValidationPolicy = {
  name: "network-policy-allows",
  description: "Under the default deny, the Deployment's pods are allowed ingress on a container port and egress to DNS (port 53).",
  validateStack: (args, reportViolation) => {
    for (const deployment of deploymentsOf(args.resources)) {
      const labels = podLabelsOf(deployment.props);
      const selecting = networkPoliciesOf(args.resources, deployment).filter((p) =>
        selectorMatches(field(p.props, "spec", "podSelector"), labels),
      );
      const containerPorts = containersOf(podSpecOf(deployment.props)).flatMap(({ container }) =>
        list(container.ports).map((port) => ({ number: field(port, "containerPort"), name: field(port, "name") })),
      );
      const ingress = selecting
        .filter((p) => policyTypesOf(p.props).includes("Ingress"))
        .flatMap((p) => list(field(p.props, "spec", "ingress")));
      const egress = selecting
        .filter((p) => policyTypesOf(p.props).includes("Egress"))
        .flatMap((p) => list(field(p.props, "spec", "egress")));
      const dns = [{ number: 53, name: undefined }];
      const resource = subject(deployment.type, deployment.name);
      if (containerPorts.length > 0 && !admitsPort(ingress, containerPorts)) {
        reportViolation(
          message({
            resource,
            property: "NetworkPolicy ingress selecting its pods",
            found: "no rule admitting a container port",
            required: `an ingress rule on ${containerPorts.map((p) => describe(p.name ?? p.number)).join(" or ")}`,
            reason: "Under a default deny the load balancer and its health checks reach no pod: every request fails.",
          }),
          deployment.urn,
        );
      }
      if (!admitsPort(egress, dns, "UDP")) {
        reportViolation(
          message({
            resource,
            property: "NetworkPolicy egress selecting its pods",
            found: "no rule admitting UDP 53",
            required: "an egress rule to kube-dns on UDP (and TCP) 53",
            reason: "Under a default deny no name resolves: the databases' and LiveKit's hosts are unreachable.",
          }),
          deployment.urn,
        );
      }
    }
  },
};

/** The Namespace resources a Deployment runs in: by name, or (name unknown in a preview) those it depends on. */
function namespacesOf(resources: readonly PolicyResource[], deployment: PolicyResource): PolicyResource[] {
  const namespaces = resources.filter((r) => r.isType(k8s.core.v1.Namespace));
  const wanted = namespaceOf(deployment.props);
  if (wanted === UNKNOWN) return namespaces.filter((ns) => dependsOn(deployment, ns));
  return namespaces.filter((ns) => field(ns.props, "metadata", "name") === wanted);
}

export const namespacePodSecurity: StackValidationPolicy = {
  name: "namespace-pod-security",
  description:
    "Every Deployment's namespace is in the stack and enforces, audits and warns on the restricted Pod Security Standard " +
    "at a pinned version.",
  validateStack: (args, reportViolation) => {
    for (const deployment of deploymentsOf(args.resources)) {
      const namespaces = namespacesOf(args.resources, deployment);
      if (namespaces.length === 0) {
        reportViolation(
          message({
            resource: subject(deployment.type, deployment.name),
            property: `Namespace resource for ${namespacePhrase(deployment.props)}`,
            found: "none in the stack",
            required: "the namespace managed by the stack, with the restricted Pod Security labels",
            reason: "Pod Security Admission is set on the namespace; one the stack does not manage may admit privileged pods.",
          }),
          deployment.urn,
        );
        continue;
      }
      for (const namespace of namespaces) {
        const labels = stringMap(field(namespace.props, "metadata", "labels"));
        for (const mode of PSA_MODES) {
          const level = labels[`${PSA}/${mode}`];
          const version = labels[`${PSA}/${mode}-version`];
          if (level === "restricted" && version !== undefined && PINNED_VERSION.test(version)) continue;
          reportViolation(
            message({
              resource: subject(namespace.type, namespace.name),
              property: `metadata.labels["${PSA}/${mode}"] / ["${PSA}/${mode}-version"]`,
              found: `${describe(level)} / ${describe(version)}`,
              required: '"restricted" / a pinned version such as "v1.33" (not "latest")',
              reason:
                mode === "enforce"
                  ? "Otherwise the API server admits pods that run privileged, as root or with host access into the app's namespace."
                  : "Otherwise a pod that breaks the standard is not recorded (audit) or not shown to whoever applies it (warn).",
            }),
            namespace.urn,
          );
        }
      }
    }
  },
};

export const workloadServiceAccount: StackValidationPolicy = {
  name: "workload-service-account",
  description: "Deployments run as a ServiceAccount of their own, defined in the stack, that mounts no API token.",
  validateStack: (args, reportViolation) => {
    const accounts = args.resources.filter((r) => r.isType(k8s.core.v1.ServiceAccount));
    for (const deployment of deploymentsOf(args.resources)) {
      const resource = subject(deployment.type, deployment.name);
      const podSpec = podSpecOf(deployment.props);
      const name = field(podSpec, "serviceAccountName");
      if (name === undefined || name === "default") {
        reportViolation(
          message({
            resource,
            property: "spec.template.spec.serviceAccountName",
            found: name === undefined ? "unset (the namespace's default ServiceAccount)" : describe(name),
            required: "a ServiceAccount of the app's own",
            reason: "The default ServiceAccount is shared by every pod of the namespace, and whatever is granted to it is granted to all.",
          }),
          deployment.urn,
        );
        continue;
      }
      if (field(podSpec, "automountServiceAccountToken") === true) {
        reportViolation(
          message({
            resource,
            property: "spec.template.spec.automountServiceAccountToken",
            found: "true",
            required: "false or unset (the ServiceAccount's false applies)",
            reason: "The app never calls the Kubernetes API; a mounted token is only useful to an attacker inside the pod.",
          }),
          deployment.urn,
        );
      }
      const account = accounts.find(
        (sa) => sameNamespace(sa.props, deployment.props) && (field(sa.props, "metadata", "name") === name || typeof name !== "string"),
      );
      if (account === undefined) {
        reportViolation(
          message({
            resource,
            property: `ServiceAccount ${describe(name)} in ${namespacePhrase(deployment.props)}`,
            found: "none in the stack",
            required: "a ServiceAccount defined by the stack with automountServiceAccountToken false",
            reason: "Pods naming a ServiceAccount that does not exist are never created.",
          }),
          deployment.urn,
        );
        continue;
      }
      if (field(account.props, "automountServiceAccountToken") === false) continue;
      reportViolation(
        message({
          resource: subject(account.type, account.name),
          property: "automountServiceAccountToken",
          found: describe(field(account.props, "automountServiceAccountToken")),
          required: "false",
          reason: "Otherwise every pod running as it gets an API token mounted unless the pod opts out.",
        }),
        account.urn,
      );
    }
  },
};

export const workloadPriorityClass: StackValidationPolicy = {
  name: "workload-priority-class",
  description:
    "Deployments name a PriorityClass defined in the stack, so the scheduler places the app before lesser pods on a full cluster.",
  validateStack: (args, reportViolation) => {
    const classes = args.resources.filter((r) => r.isType(k8s.scheduling.v1.PriorityClass));
    for (const deployment of deploymentsOf(args.resources)) {
      const name = field(podSpecOf(deployment.props), "priorityClassName");
      const defined = classes.some((c) => field(c.props, "metadata", "name") === name || (name !== undefined && typeof name !== "string"));
      if (name !== undefined && defined) continue;
      reportViolation(
        message({
          resource: subject(deployment.type, deployment.name),
          property: "spec.template.spec.priorityClassName",
          found: name === undefined ? "unset (priority 0, like any batch pod)" : `${describe(name)}, which the stack does not define`,
          required: "the name of a PriorityClass defined by the stack",
          reason: "On a full cluster (a node lost, an upgrade surging) the scheduler would place other pods first and may evict the app's.",
        }),
        deployment.urn,
      );
    }
  },
};

/** Reports one restricted-profile finding of a Deployment. */
type Report = (property: string, found: unknown, required: string, reason: string) => void;

function checkRestrictedProfile(deployment: Props, report: Report): void {
  const podSpec = podSpecOf(deployment);
  const podSeccomp = field(podSpec, "securityContext", "seccompProfile", "type");
  for (const hostField of ["hostNetwork", "hostPID", "hostIPC"] as const) {
    if (field(podSpec, hostField) === true) {
      report(
        `spec.template.spec.${hostField}`,
        true,
        "false or unset",
        "Host namespaces let the pod see and reach the node's processes and network.",
      );
    }
  }
  list(podSpec?.volumes).forEach((volume, index) => {
    if (record(field(volume, "hostPath")) !== undefined) {
      report(
        `spec.template.spec.volumes[${index}].hostPath`,
        field(volume, "hostPath"),
        "no hostPath volume",
        "A hostPath volume exposes the node's files.",
      );
    }
  });
  for (const { path, container } of containersOf(podSpec, true)) {
    const seccomp = field(container, "securityContext", "seccompProfile", "type") ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      report(
        `${path}.securityContext.seccompProfile.type (or the pod's)`,
        seccomp,
        '"RuntimeDefault" (or "Localhost")',
        "Without a seccomp profile every system call of the kernel is open to the container.",
      );
    }
    const escalation = field(container, "securityContext", "allowPrivilegeEscalation");
    if (escalation !== false) {
      report(
        `${path}.securityContext.allowPrivilegeEscalation`,
        escalation,
        "false",
        "Otherwise a setuid binary in the image can gain privileges.",
      );
    }
    const drop = list(field(container, "securityContext", "capabilities", "drop"));
    if (!drop.includes("ALL")) {
      report(
        `${path}.securityContext.capabilities.drop`,
        drop.length === 0 ? undefined : drop,
        'to include "ALL"',
        "The runtime's default capabilities stay otherwise.",
      );
    }
    const added = list(field(container, "securityContext", "capabilities", "add")).filter((c) => c !== "NET_BIND_SERVICE");
    if (added.length > 0) {
      report(
        `${path}.securityContext.capabilities.add`,
        added,
        'nothing beyond "NET_BIND_SERVICE"',
        "The restricted standard admits no other capability.",
      );
    }
  }
}

export const deploymentRestrictedProfile: ResourceValidationPolicy = {
  name: "deployment-restricted-profile",
  description:
    "Pod specs satisfy the restricted Pod Security Standard: seccomp RuntimeDefault, no privilege escalation, " +
    "all capabilities dropped, no host access.",
  validateResource: validateResourceOfType(k8s.apps.v1.Deployment, (_deployment, args, reportViolation: ReportViolation) => {
    checkRestrictedProfile(args.props, (property, found, required, reason) =>
      reportViolation(message({ resource: subject(args.type, args.name), property, found: describe(found), required, reason })),
    );
  }),
};

/** Rule 12. */
export const namespaceSecurityPolicies = [
  namespaceDefaultDeny,
  networkPolicyAllows,
  namespacePodSecurity,
  workloadServiceAccount,
  workloadPriorityClass,
  deploymentRestrictedProfile,
];
