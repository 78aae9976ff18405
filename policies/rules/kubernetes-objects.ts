/**
 * Reading Kubernetes objects in their native shape (as the kubernetes provider takes them): pod
 * templates, containers, label selectors, namespaces and the app's own annotations.
 */
import { LIVEKIT_DEPLOYMENTS_ANNOTATION, SINGLETON_ANNOTATION } from "../../infra/annotations";
import { field, list, num, readOrUnknown, record, stringMap, text, UNKNOWN, type Props } from "./props";

/** Node label every node carries a distinct value of. */
export const HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname";

/** The pod spec of a workload's template (`spec.template.spec`). */
export function podSpecOf(workload: Props): Props | undefined {
  return record(field(workload, "spec", "template", "spec"));
}

/** The labels of a workload's pod template. */
export function podLabelsOf(workload: Props): Record<string, string> {
  return stringMap(field(workload, "spec", "template", "metadata", "labels"));
}

/** The annotations of a workload's pod template. */
export function podAnnotationsOf(workload: Props): Record<string, string> {
  return stringMap(field(workload, "spec", "template", "metadata", "annotations"));
}

/** A container with the path it is found at, for messages. */
export interface ContainerAt {
  /** e.g. `spec.template.spec.containers[0]` */
  path: string;
  /** The container's name, or its index if unnamed. */
  label: string;
  container: Props;
}

/** The containers of a pod spec (and, with `includeInit`, its init containers). */
export function containersOf(podSpec: Props | undefined, includeInit = false): ContainerAt[] {
  const groups = includeInit ? (["initContainers", "containers"] as const) : (["containers"] as const);
  return groups.flatMap((group) =>
    list(podSpec?.[group]).flatMap((item, index) => {
      const container = record(item);
      if (!container) return [];
      return [{ path: `spec.template.spec.${group}[${index}]`, label: text(container.name) ?? String(index), container }];
    }),
  );
}

/** Whether a label selector (`matchLabels` / `matchExpressions`) selects pods with these labels. */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const bag = record(selector);
  if (!bag) return false;
  const matchLabels = stringMap(bag.matchLabels);
  if (!Object.entries(matchLabels).every(([key, value]) => labels[key] === value)) return false;
  return list(bag.matchExpressions).every((item) => {
    const expression = record(item);
    const key = text(expression?.key);
    if (!expression || key === undefined) return false;
    const values = list(expression.values).filter((v): v is string => typeof v === "string");
    switch (expression.operator) {
      case "In":
        return key in labels && values.includes(labels[key]);
      case "NotIn":
        return !(key in labels) || !values.includes(labels[key]);
      case "Exists":
        return key in labels;
      case "DoesNotExist":
        return !(key in labels);
      default:
        return false;
    }
  });
}

/**
 * The object's namespace (`default` when unset), or {@link UNKNOWN} when it comes from another
 * resource's output that a preview does not know yet.
 */
export function namespaceOf(object: Props): string | typeof UNKNOWN {
  const namespace = readOrUnknown(() => field(object, "metadata", "namespace"));
  if (namespace === UNKNOWN) return UNKNOWN;
  return text(namespace) ?? "default";
}

/** Whether two objects are in the same namespace (assumed when either is unknown during a preview). */
export function sameNamespace(a: Props, b: Props): boolean {
  const left = namespaceOf(a);
  const right = namespaceOf(b);
  return left === UNKNOWN || right === UNKNOWN || left === right;
}

/**
 * Whether the pod template forces its replicas onto distinct nodes: a `DoNotSchedule` topology spread
 * constraint on the hostname, or a required pod anti-affinity on the hostname, that selects the pods.
 */
export function spreadsAcrossNodes(workload: Props): boolean {
  const podSpec = podSpecOf(workload);
  const labels = podLabelsOf(workload);
  const selectsPods = (term: Props) => selectorMatches(term.labelSelector, labels) || list(term.matchLabelKeys).length > 0;
  const spread = list(podSpec?.topologySpreadConstraints).some((item) => {
    const constraint = record(item);
    return (
      constraint !== undefined &&
      constraint.topologyKey === HOSTNAME_TOPOLOGY_KEY &&
      constraint.whenUnsatisfiable === "DoNotSchedule" &&
      selectsPods(constraint)
    );
  });
  const antiAffinity = list(field(podSpec, "affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution")).some(
    (item) => {
      const term = record(item);
      return term !== undefined && term.topologyKey === HOSTNAME_TOPOLOGY_KEY && selectsPods(term);
    },
  );
  return spread || antiAffinity;
}

/** The replica count a Deployment asks for (Kubernetes defaults an unset `spec.replicas` to 1). */
export function replicasOf(workload: Props): { value: number | undefined; effective: number } {
  const value = num(field(workload, "spec", "replicas"));
  return { value, effective: value ?? 1 };
}

/** The LiveKit deployment names the app's pod template announces (unique, in order). */
export function livekitDeploymentsOf(workload: Props): string[] {
  const raw = podAnnotationsOf(workload)[LIVEKIT_DEPLOYMENTS_ANNOTATION] ?? "";
  return [
    ...new Set(
      raw
        .split(",")
        .map((name) => name.trim())
        .filter((name) => name.length > 0),
    ),
  ];
}

/** Why a Deployment is a singleton by design (its {@link SINGLETON_ANNOTATION}), or undefined for an ordinary one. */
export function singletonReason(workload: Props): string | undefined {
  const reason = text(field(workload, "metadata", "annotations", SINGLETON_ANNOTATION));
  return reason !== undefined && reason.trim() !== "" ? reason.trim() : undefined;
}
