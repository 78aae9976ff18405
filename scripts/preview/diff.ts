/**
 * Pulumi-style diff of two offline plans: resources matched by type and name, each changed property as
 * old → new at its nested path, and the changes that make DigitalOcean or Kubernetes replace a resource
 * instead of updating it (flagged as a data-loss risk for the stateful database clusters).
 */
import type { Violation } from "../../policies/plan";
import type { PreviewDocument, PreviewResource } from "./format";

export type ChangeOp = "create" | "update" | "replace" | "delete";

/** One changed property. `old`/`new` are absent when the property did not exist on that side. */
export interface PropertyDiff {
  path: string;
  old?: unknown;
  new?: unknown;
  /** This property change forces a replacement. */
  replaces?: boolean;
}

/** One resource change. */
export interface Change {
  op: ChangeOp;
  type: string;
  name: string;
  diffs: PropertyDiff[];
  /** Replacing or deleting this resource destroys data (a database cluster). */
  dataLossRisk: boolean;
  /** The resource is protected: Pulumi refuses to delete or replace it until `protect` is lifted. */
  protected?: boolean;
}

/** The diff between two plans. */
export interface PlanDiff {
  changes: Change[];
  policies: { introduced: Violation[]; fixed: Violation[] };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `a.b`, `a[0]`, and `a["key.with/dots"]` for keys that are not plain identifiers. */
function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  if (/^[A-Za-z_$][\w$-]*$/.test(key)) return parent ? `${parent}.${key}` : key;
  return `${parent}[${JSON.stringify(key)}]`;
}

/** Every leaf difference between two property trees, in a stable order. */
export function diffProperties(oldValue: unknown, newValue: unknown, path = ""): PropertyDiff[] {
  if (isObject(oldValue) && isObject(newValue)) {
    const keys = [...new Set([...Object.keys(oldValue), ...Object.keys(newValue)])].sort();
    return keys.flatMap((k) => diffProperties(oldValue[k], newValue[k], childPath(path, k)));
  }
  if (Array.isArray(oldValue) && Array.isArray(newValue)) {
    const length = Math.max(oldValue.length, newValue.length);
    return Array.from({ length }, (_, i) => diffProperties(oldValue[i], newValue[i], childPath(path, i))).flat();
  }
  if (JSON.stringify(oldValue) === JSON.stringify(newValue)) return [];
  return [{ path, ...(oldValue !== undefined ? { old: oldValue } : {}), ...(newValue !== undefined ? { new: newValue } : {}) }];
}

const DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
const major = (v: unknown) => Number(String(v).split(".")[0]);

/**
 * Property changes the providers cannot apply in place (ForceNew in the DigitalOcean provider, immutable
 * fields in Kubernetes). Keyed by type token; Kubernetes objects also replace on a new name or namespace.
 */
const REPLACED_ON: Record<string, (d: PropertyDiff) => boolean> = {
  [DATABASE_CLUSTER]: (d) =>
    ["engine", "region", "name"].includes(d.path) || (d.path === "version" && major(d.new) < major(d.old)),
  "digitalocean:index/databaseReplica:DatabaseReplica": (d) => ["clusterId", "region", "name"].includes(d.path),
  "digitalocean:index/databaseFirewall:DatabaseFirewall": (d) => d.path === "clusterId",
  "digitalocean:index/databaseDb:DatabaseDb": (d) => ["clusterId", "name"].includes(d.path),
  "digitalocean:index/databaseUser:DatabaseUser": (d) => ["clusterId", "name"].includes(d.path),
  "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": (d) => ["clusterId", "name"].includes(d.path),
  "digitalocean:index/kubernetesCluster:KubernetesCluster": (d) =>
    ["region", "name", "vpcUuid", "nodePool.size", "nodePool.name"].includes(d.path),
  "digitalocean:index/vpc:Vpc": (d) => ["ipRange", "region"].includes(d.path),
  "digitalocean:index/certificate:Certificate": (d) => ["name", "type"].includes(d.path) || under(d.path, "domains"),
  "kubernetes:apps/v1:Deployment": (d) => under(d.path, "spec.selector"),
};

function forcesReplacement(type: string, d: PropertyDiff): boolean {
  if (type.startsWith("kubernetes:") && (d.path === "metadata.name" || d.path === "metadata.namespace")) return true;
  return REPLACED_ON[type]?.(d) ?? false;
}

const key = (r: { type: string; name: string }) => `${r.type}\u0000${r.name}`;

function isStateful(r: PreviewResource): boolean {
  return r.type === DATABASE_CLUSTER;
}

/** Resource changes from `base` to `head`: updates and replacements in head order, then deletions. */
export function diffResources(base: PreviewResource[], head: PreviewResource[]): Change[] {
  const before = new Map(base.map((r) => [key(r), r]));
  const after = new Set(head.map(key));
  const changes: Change[] = [];
  for (const r of head) {
    const old = before.get(key(r));
    if (!old) {
      changes.push({ op: "create", type: r.type, name: r.name, diffs: [], dataLossRisk: false });
      continue;
    }
    const diffs = diffProperties(old.props, r.props).map((d) => (forcesReplacement(r.type, d) ? { ...d, replaces: true } : d));
    if (old.protect !== r.protect) diffs.push({ path: "(option) protect", old: old.protect, new: r.protect });
    if (!diffs.length) continue;
    const replace = diffs.some((d) => d.replaces);
    changes.push({
      op: replace ? "replace" : "update",
      type: r.type,
      name: r.name,
      diffs,
      dataLossRisk: replace && isStateful(r),
      ...(replace && old.protect ? { protected: true } : {}),
    });
  }
  for (const r of base) {
    if (after.has(key(r))) continue;
    changes.push({ op: "delete", type: r.type, name: r.name, diffs: [], dataLossRisk: isStateful(r), ...(r.protect ? { protected: true } : {}) });
  }
  return changes;
}

const violationKey = (v: Violation) => `${v.policy}\u0000${v.level}\u0000${v.resource ?? ""}\u0000${v.message}`;

/** Violations the change introduces (in head only) and fixes (in base only). */
export function diffViolations(base: Violation[], head: Violation[]): PlanDiff["policies"] {
  const before = new Set(base.map(violationKey));
  const after = new Set(head.map(violationKey));
  return { introduced: head.filter((v) => !before.has(violationKey(v))), fixed: base.filter((v) => !after.has(violationKey(v))) };
}

/** The full diff of two preview documents. */
export function diffPlans(base: PreviewDocument, head: PreviewDocument): PlanDiff {
  return {
    changes: diffResources(base.resources, head.resources),
    policies: diffViolations(base.policies.violations, head.policies.violations),
  };
}
