/**
 * Pulumi-style diff of two offline plans: resources matched by type and name, each changed property as
 * old → new at its nested path, and the changes that make DigitalOcean or Kubernetes replace a resource
 * instead of updating it (`replacement-rules.ts`: the provider facts for DigitalOcean), propagated to dependents
 * (`propagation.ts`), flagged as a data-loss risk for the stateful database clusters.
 */
import { TYPE } from "../infra/type-tokens";
import type { Violation } from "./plan";
import { resourceRef, type PreviewDocument, type PreviewResource } from "./format";
import { propagate } from "./propagation";
import { forcesReplacement } from "./replacement-rules";

export type ChangeOp = "create" | "update" | "replace" | "delete";

/** One changed property. `old`/`new` are absent when the property did not exist on that side. */
export interface PropertyDiff {
  path: string;
  old?: unknown;
  new?: unknown;
  /** This property change forces a replacement. */
  replaces?: boolean;
  /** The new value is unknown until apply, and why (a resource it refers to is replaced). */
  unknown?: string;
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
  /** Replaced by deleting the old one first (its fixed name would collide with the new one). */
  deleteBeforeReplace?: boolean;
  /** A create that adopts an existing cloud resource (the `import` option): nothing is created, nothing lost. */
  imported?: string;
  /** A delete that only removes the resource from Pulumi's state (`retainOnDelete`): the cloud resource stays. */
  retained?: boolean;
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

const key = (r: { type: string; name: string }) => `${r.type}\u0000${r.name}`;

function isStateful(r: PreviewResource): boolean {
  return r.type === TYPE.databaseCluster;
}

/** The change a property diff makes, with `replaces` set when it forces a replacement. */
function withReplacement(type: string, d: PropertyDiff): PropertyDiff {
  return forcesReplacement(type, d) ? { ...d, replaces: true } : d;
}

/**
 * Resource changes from `base` to `head`: updates and replacements in head order, then deletions. A change's own
 * property diffs decide first; then replacements propagate to dependents (see `propagation.ts`): their inputs that
 * refer to a replaced resource become unknown, replacing them when such an input forces replacement.
 */
export function diffResources(base: PreviewResource[], head: PreviewResource[]): Change[] {
  const before = new Map(base.map((r) => [key(r), r]));
  const after = new Set(head.map(key));
  const own = new Map<string, PropertyDiff[]>();
  const matched = new Map<string, PreviewResource>();
  for (const r of head) {
    const old = before.get(key(r));
    if (!old) continue;
    matched.set(resourceRef(r), old);
    // As the engine does: an input under ignoreChanges keeps its old value on update, so its change is no change.
    const ignored = r.ignoreChanges ?? [];
    const diffs = diffProperties(old.props, r.props)
      .filter((d) => !ignored.some((p) => d.path === p || d.path.startsWith(`${p}.`) || d.path.startsWith(`${p}[`)))
      .map((d) => withReplacement(r.type, d));
    if (old.protect !== r.protect) diffs.push({ path: "(option) protect", old: old.protect, new: r.protect });
    own.set(resourceRef(r), diffs);
  }
  const replacedByOwnChange = new Set([...own].filter(([, diffs]) => diffs.some((d) => d.replaces)).map(([ref]) => ref));
  const unknown = propagate(head, matched, replacedByOwnChange);

  const changes: Change[] = [];
  for (const r of head) {
    const old = before.get(key(r));
    if (!old) {
      changes.push({
        op: "create",
        type: r.type,
        name: r.name,
        diffs: [],
        dataLossRisk: false,
        ...(r.importId ? { imported: r.importId } : {}),
      });
      continue;
    }
    const ownDiffs = own.get(resourceRef(r)) ?? [];
    const unknownDiffs: PropertyDiff[] = (unknown.get(resourceRef(r)) ?? [])
      // An input already shown changing (or changing inside) is not repeated as "unknown".
      .filter((u) => !ownDiffs.some((d) => d.path === u.path || d.path.startsWith(`${u.path}.`) || d.path.startsWith(`${u.path}[`)))
      .map((u) => ({
        path: u.path,
        ...(u.old !== undefined ? { old: u.old } : {}),
        unknown: u.because,
        ...(u.replaces ? { replaces: true } : {}),
      }));
    const diffs = [...ownDiffs, ...unknownDiffs];
    if (!diffs.length) continue;
    const replace = diffs.some((d) => d.replaces);
    changes.push({
      op: replace ? "replace" : "update",
      type: r.type,
      name: r.name,
      diffs,
      dataLossRisk: replace && isStateful(r),
      ...(replace && old.protect ? { protected: true } : {}),
      ...(replace && r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
    });
  }
  for (const r of base) {
    if (after.has(key(r))) continue;
    changes.push({
      op: "delete",
      type: r.type,
      name: r.name,
      diffs: [],
      dataLossRisk: isStateful(r) && !r.retainOnDelete,
      ...(r.protect ? { protected: true } : {}),
      ...(r.retainOnDelete ? { retained: true } : {}),
    });
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
