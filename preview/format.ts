/**
 * Presentation of a rendered plan: secrets redacted, the JSON document of `--json`, and the readable tree
 * grouped by component with the properties that matter for HA.
 */
import { DO_LOAD_BALANCER_ANNOTATION_PREFIX } from "../infra/annotations";
import { TYPE } from "../infra/type-tokens";
import type { PlannedResource, Violation } from "./plan";
import type { ScorecardTier } from "../policies/rules/scorecard";
import { firstUpChecklist, type ChecklistItem } from "./checklist";
import type { RenderedPlan } from "./render";

export const SECRET_TEXT = "[secret]";

/** One resource as `--json` reports it. */
export interface PreviewResource {
  type: string;
  name: string;
  parent?: string;
  protect: boolean;
  props: Record<string, unknown>;
  /** Per input property, the resources (`<type>::<name>`) whose outputs flow into it. */
  inputDependencies?: Record<string, string[]>;
  /** The provider resource (`<type>::<name>`) that manages it, when not the default one. */
  provider?: string;
  /** Replaced by deleting first (the `deleteBeforeReplace` option). */
  deleteBeforeReplace?: boolean;
  /**
   * The `ignoreChanges` option: input paths set when the resource is created and left alone afterwards (e.g. a
   * Deployment's `spec.replicas`, which its HorizontalPodAutoscaler owns). Absent when there are none.
   */
  ignoreChanges?: string[];
  /** Adopted from the cloud (the `import` option), with the id. */
  importId?: string;
  /** Deleting it only removes it from Pulumi's state (the `retainOnDelete` option). */
  retainOnDelete?: boolean;
}

/** How a preview document refers to a resource: `<type>::<name>`. */
export function resourceRef(r: { type: string; name: string }): string {
  return `${r.type}::${r.name}`;
}

/** The `--json` document. */
export interface PreviewDocument {
  stack: string;
  resources: PreviewResource[];
  outputs: Record<string, unknown>;
  policies: { violations: Violation[]; scorecard: ScorecardTier[] };
  /** What the first `pulumi up` needs that the program does not create, each with the command that checks it. */
  checklist?: ChecklistItem[];
}

/** Splits `a.b[0].c` into `["a", "b", 0, "c"]`. */
export function parsePath(path: string): (string | number)[] {
  const parts: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) parts.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return parts;
}

/** Reads the value at `path` (see {@link parsePath}). */
export function getPath(value: unknown, path: string): unknown {
  let cur = value;
  for (const part of parsePath(path)) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string | number, unknown>)[part];
  }
  return cur;
}

/** A deep copy of `props` with the value at every secret path replaced by `[secret]`. */
export function redact(props: Record<string, unknown>, secretPaths: string[]): Record<string, unknown> {
  const copy = structuredClone(props);
  for (const path of secretPaths) {
    const parts = parsePath(path);
    const last = parts.pop();
    if (last === undefined) continue;
    const holder = parts.reduce<unknown>((cur, p) => (cur as Record<string | number, unknown> | undefined)?.[p], copy);
    if (holder && typeof holder === "object" && last in holder) (holder as Record<string | number, unknown>)[last] = SECRET_TEXT;
  }
  return copy;
}

/** Maps each component URN to its name, so resources can name their parent. */
function componentNames(resources: PlannedResource[]): Map<string, string> {
  return new Map(resources.filter((r) => !r.custom).map((r) => [r.urn, r.name]));
}

/** The `--json` document for a plan and its policy report. */
export function previewDocument(plan: RenderedPlan, report: PreviewDocument["policies"]): PreviewDocument {
  const components = componentNames(plan.resources);
  // Components register synchronously in the program's order; their children resolve asynchronously.
  // Listing children in their component's order makes the output read like infra/index.ts.
  const order = [...components.keys()];
  const refs = new Map(plan.resources.map((r) => [r.urn, resourceRef(r)]));
  const refsOf = (urns: string[]) => urns.flatMap((u) => (refs.has(u) ? [refs.get(u)!] : []));
  const rank = (r: PlannedResource) => (r.parent && components.has(r.parent) ? order.indexOf(r.parent) : order.length);
  const resources = plan.resources
    .filter((r) => r.custom)
    .map((r, i) => ({ r, i }))
    .sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i)
    .map(({ r }) => r)
    .map((r) => ({
      type: r.type,
      name: r.name,
      ...(r.parent && components.has(r.parent) ? { parent: components.get(r.parent) } : {}),
      protect: r.protect,
      props: redact(r.props, r.secretPaths),
      ...(r.propertyDependencies && Object.keys(r.propertyDependencies).length
        ? { inputDependencies: Object.fromEntries(Object.entries(r.propertyDependencies).map(([k, urns]) => [k, refsOf(urns)])) }
        : {}),
      ...(r.provider && refs.has(r.provider) ? { provider: refs.get(r.provider) } : {}),
      ...(r.deleteBeforeReplace ? { deleteBeforeReplace: true } : {}),
      ...(r.ignoreChanges?.length ? { ignoreChanges: [...r.ignoreChanges] } : {}),
      ...(r.importId ? { importId: r.importId } : {}),
      ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
    }));
  const outputs = Object.fromEntries(Object.entries(plan.outputs).map(([k, o]) => [k, o.secret ? SECRET_TEXT : o.value]));
  return { stack: plan.stack, resources, outputs, policies: report, checklist: firstUpChecklist(plan.resources) };
}

const LB = `metadata.annotations.${DO_LOAD_BALANCER_ANNOTATION_PREFIX}`;

/** The properties worth a glance in the tree, per resource type (paths into the props). */
const HIGHLIGHTS: Record<string, string[]> = {
  [TYPE.vpc]: ["region", "ipRange"],
  [TYPE.kubernetesCluster]: [
    "version",
    "ha",
    "nodePool.size",
    "nodePool.minNodes",
    "nodePool.maxNodes",
    "autoUpgrade",
    "surgeUpgrade",
    "maintenancePolicy.day",
  ],
  [TYPE.databaseCluster]: ["engine", "version", "size", "nodeCount", "evictionPolicy", "privateNetworkUuid"],
  [TYPE.databaseReplica]: ["size", "region"],
  [TYPE.databaseConnectionPool]: ["mode", "size"],
  [TYPE.databaseFirewall]: ["rules[0].type", "rules.length"],
  [TYPE.deployment]: [
    "spec.replicas",
    "spec.strategy.rollingUpdate.maxUnavailable",
    "spec.strategy.rollingUpdate.maxSurge",
    "spec.template.spec.containers[0].image",
  ],
  [TYPE.service]: ["spec.type", `${LB}type`, `${LB}healthcheck-path`, `${LB}http-idle-timeout-seconds`],
  [TYPE.podDisruptionBudget]: ["spec.minAvailable"],
  [TYPE.horizontalPodAutoscaler]: ["spec.minReplicas", "spec.maxReplicas"],
  [TYPE.monitorAlert]: ["type", "compare", "value", "window"],
  [TYPE.uptimeCheck]: ["target", "regions"],
  [TYPE.uptimeAlert]: ["type", "threshold", "period"],
  [TYPE.secret]: ["stringData"],
  [TYPE.project]: ["environment"],
  [TYPE.helmRelease]: [
    "chart",
    "version",
    "namespace",
    "values.replicas",
    "values.prometheus.prometheusSpec.retention",
    "values.prometheus.prometheusSpec.retentionSize",
  ],
  [TYPE.serviceMonitor]: ["spec.endpoints[0].port", "spec.endpoints[0].interval"],
  [TYPE.prometheusRule]: ["spec.groups[0].rules.length"],
};

/** Reads a highlight path; annotation keys contain dots, so they are matched as one segment. */
function highlight(props: Record<string, unknown>, path: string): unknown {
  const annotation = /^metadata\.annotations\.(.+)$/.exec(path);
  if (annotation) return (getPath(props, "metadata.annotations") as Record<string, unknown> | undefined)?.[annotation[1]!];
  const length = /^(.+)\.length$/.exec(path);
  if (length) return (getPath(props, length[1]!) as unknown[] | undefined)?.length;
  return getPath(props, path);
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

function shortKey(path: string): string {
  return path.startsWith(LB) ? `lb-${path.slice(LB.length)}` : path.replace(/^spec\.(template\.spec\.)?/, "");
}

/** The readable tree, grouped by component. */
export function formatTree(doc: PreviewDocument, stackFile: string): string {
  const lines: string[] = [
    `GoMeet offline preview: stack ${doc.stack} (${stackFile})`,
    "Pulumi mock runtime: no CLI, no credentials, no cloud calls. Secrets print as [secret].",
    "",
  ];
  const groups = new Map<string, PreviewResource[]>();
  for (const r of doc.resources) {
    const key = r.parent ?? "(stack)";
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  for (const [component, resources] of groups) {
    lines.push(`${component}`);
    for (const r of resources) {
      const ignored = r.ignoreChanges ?? [];
      const tags = [...(r.protect ? ["[protected]"] : []), ...(ignored.length ? [`[ignoreChanges: ${ignored.join(", ")}]`] : [])];
      lines.push(`  + ${r.type}  ${r.name}${tags.map((t) => `  ${t}`).join("")}`);
      // A value under ignoreChanges is the one the resource is created with; a later `pulumi up` leaves it alone.
      const shown = (HIGHLIGHTS[r.type] ?? [])
        .map((path) => [path, highlight(r.props, path)] as const)
        .filter(([, v]) => v !== undefined)
        .map(([path, v]) => `${shortKey(path)}=${show(v)}${ignored.includes(path) ? " (at create; ignoreChanges)" : ""}`);
      if (shown.length) lines.push(`      ${shown.join("  ")}`);
    }
  }
  lines.push("", `${doc.resources.length} resources to create in ${groups.size} components.`, "", "Outputs");
  const width = Math.max(...Object.keys(doc.outputs).map((k) => k.length), 0);
  for (const [k, v] of Object.entries(doc.outputs)) lines.push(`  ${k.padEnd(width)}  ${show(v)}`);
  return lines.join("\n");
}

/** The policy verdicts and the HA scorecard. */
export function formatPolicies(report: PreviewDocument["policies"]): string {
  const mandatory = report.violations.filter((v) => v.level === "mandatory").length;
  const advisory = report.violations.length - mandatory;
  const lines = ["", `Policies (gomeet-ha): ${mandatory} mandatory, ${advisory} advisory violation${advisory === 1 ? "" : "s"}`];
  for (const v of report.violations) {
    lines.push(`  ${v.level === "mandatory" ? "✗" : "!"} [${v.level}] ${v.policy}${v.resource ? ` (${v.resource})` : ""}: ${v.message}`);
  }
  lines.push("", "HA scorecard");
  const tierWidth = Math.max(4, ...report.scorecard.map((t) => t.tier.length));
  lines.push(`  ${"tier".padEnd(tierWidth)}  verdict   redundancy`);
  for (const t of report.scorecard) {
    const verdict = t.accepted ? "accepted" : t.spof ? "SPOF" : "redundant";
    lines.push(`  ${t.tier.padEnd(tierWidth)}  ${verdict.padEnd(9)} ${t.redundancy}`);
  }
  const spofs = report.scorecard.filter((t) => t.spof && !t.accepted).length;
  const accepted = report.scorecard.filter((t) => t.accepted);
  const region = accepted.find((t) => t.tier === "region");
  lines.push(
    "",
    spofs
      ? `${spofs} single point(s) of failure left.`
      : region
        ? `No single point of failure inside the region; the region itself is one (${region.redundancy}).`
        : "No single point of failure.",
  );
  for (const t of accepted) lines.push(`Accepted risk, ${t.tier}: ${t.accepted}.`);
  return lines.join("\n");
}
