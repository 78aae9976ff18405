/**
 * A Mermaid flowchart of a deployment: its regions (subgraphs), in each the tiers a request goes through (load
 * balancer → app → pool → databases, on the Kubernetes cluster's nodes) with their redundancy, global resources
 * (a global load balancer) outside any region; and, for a diff, each changed resource marked by kind of change.
 * Only the tiers are drawn; changes to other resources are counted in one note.
 */
import { DO_LOAD_BALANCER_ANNOTATION_PREFIX } from "../../infra/annotations";
import { TYPE } from "../../infra/type-tokens";

export type ChangeKind = "create" | "update" | "replace" | "delete";

/** What the diagram reads of a planned resource. */
export interface DiagramResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
  /** `<type>::<name>` of the provider managing it (Kubernetes objects: the cluster's provider). */
  provider?: string;
}

export interface DiagramChange {
  op: ChangeKind;
  type: string;
  name: string;
  dataLossRisk?: boolean;
}

const LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer";
const MARK: Record<ChangeKind, string> = { create: "+ ", update: "~ ", replace: "+- ", delete: "- " };
const record = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});

/** A Mermaid node id: letters, digits and underscores only. */
const idOf = (type: string, name: string) => `${type.split(":").pop()}_${name}`.replace(/[^A-Za-z0-9_]/g, "_");

/** Label text safe inside `["..."]`: quotes and angle brackets as entities, no line breaks. */
const label = (text: string) => text.replace(/"/g, "#quot;").replace(/</g, "#lt;").replace(/>/g, "#gt;").replace(/\s+/g, " ");

interface Tier {
  id: string;
  type: string;
  name: string;
  /** Region slug, or undefined for a global resource. */
  region?: string;
  title: string;
  redundancy: string;
  /** Ids of the tiers a request goes to next. */
  next: string[];
  /** A Service's selector, a Deployment's pod labels: which Deployments a load balancer sends to. */
  labels?: Record<string, unknown>;
}

/** Whether every key of `selector` has the same value in `labels`. */
const selects = (selector: Record<string, unknown> | undefined, labels: Record<string, unknown> | undefined) =>
  selector === undefined || Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The region of every Kubernetes provider: the region of the cluster its clusterIdentifier names. */
function providerRegions(resources: readonly DiagramResource[]): Map<string, string> {
  // The offline preview's mock gives every resource the id `<name>-id` (preview/render.ts).
  const clusterRegion = new Map<string, string>(
    resources.filter((r) => r.type === TYPE.kubernetesCluster).map((r) => [`${r.name}-id`, String(r.props.region)]),
  );
  const out = new Map<string, string>();
  for (const p of resources.filter((r) => r.type === TYPE.kubernetesProvider)) {
    const region = clusterRegion.get(String(p.props.clusterIdentifier));
    if (region) out.set(`${p.type}::${p.name}`, region);
  }
  return out;
}

function describe(r: DiagramResource): { title: string; redundancy: string } | undefined {
  const p = r.props;
  switch (r.type) {
    case LOAD_BALANCER:
      return {
        title: `${String(p.type ?? "REGIONAL")} load balancer`,
        redundancy: p.type === "GLOBAL" ? "global, managed" : `${String(p.sizeUnit ?? 1)} node(s)`,
      };
    case TYPE.service: {
      if (record(p.spec).type !== "LoadBalancer") return undefined;
      const a = record(record(p.metadata).annotations);
      const kind = String(a[`${DO_LOAD_BALANCER_ANNOTATION_PREFIX}type`] ?? "REGIONAL");
      return { title: `${kind} load balancer`, redundancy: `${String(a[`${DO_LOAD_BALANCER_ANNOTATION_PREFIX}size-unit`] ?? 1)} node(s)` };
    }
    case TYPE.deployment:
      return {
        title: `Deployment ${r.name}`,
        redundancy: `${String(record(p.spec).replicas ?? 1)} replica(s)`,
      };
    case TYPE.kubernetesCluster: {
      const pool = record(p.nodePool);
      const nodes = pool.autoScale ? `${String(pool.minNodes)}–${String(pool.maxNodes)} nodes` : `${String(pool.nodeCount)} nodes`;
      return { title: "DOKS cluster", redundancy: `${p.ha ? "HA control plane" : "single control plane"}, ${nodes} ${String(pool.size)}` };
    }
    case TYPE.databaseCluster:
      return {
        title: p.engine === "pg" ? "PostgreSQL" : p.engine === "valkey" ? "Valkey" : String(p.engine),
        redundancy: `${String(p.nodeCount)} node(s) ${String(p.size)}`,
      };
    case TYPE.databaseReplica:
      return { title: "read-only node", redundancy: `${String(p.size)} in ${String(p.region)}` };
    case TYPE.databaseConnectionPool:
      return { title: "connection pool", redundancy: `${String(p.mode)}, ${String(p.size)} connections` };
    default:
      return undefined;
  }
}

/** The tiers of one side's resources, with the request path between them. */
function tiersOf(resources: readonly DiagramResource[]): Tier[] {
  const regions = providerRegions(resources);
  const firstRegion = resources.map((r) => r.props.region).find((x): x is string => typeof x === "string");
  const tiers: Tier[] = [];
  for (const r of resources) {
    const d = describe(r);
    if (!d) continue;
    const global = r.type === LOAD_BALANCER && r.props.type === "GLOBAL";
    const region = global
      ? undefined
      : typeof r.props.region === "string"
        ? r.props.region
        : ((r.provider && regions.get(r.provider)) ?? firstRegion);
    const labels =
      r.type === TYPE.service
        ? record(record(r.props.spec).selector)
        : r.type === TYPE.deployment
          ? record(record(record(record(r.props.spec).template).metadata).labels)
          : undefined;
    tiers.push({ id: idOf(r.type, r.name), type: r.type, name: r.name, region, ...d, next: [], labels });
  }
  const inRegion = (region: string | undefined, pick: (t: Tier) => boolean) => tiers.filter((t) => t.region === region && pick(t));
  const isLb = (t: Tier) => t.title.endsWith("load balancer") && t.region !== undefined;
  for (const t of tiers.filter(isLb))
    t.next = inRegion(t.region, (x) => x.type === TYPE.deployment && (t.type !== TYPE.service || selects(t.labels, x.labels))).map(
      (x) => x.id,
    );
  for (const t of tiers) {
    if (t.region === undefined) t.next = tiers.filter(isLb).map((x) => x.id);
    else if (t.type === TYPE.deployment && tiers.some((lb) => lb.next.includes(t.id))) {
      const pool = inRegion(t.region, (x) => x.type === TYPE.databaseConnectionPool);
      const data = inRegion(t.region, (x) => x.type === TYPE.databaseCluster || x.type === TYPE.databaseReplica);
      t.next = [...pool, ...data.filter((x) => !(pool.length && x.title === "PostgreSQL"))].map((x) => x.id);
    } else if (t.type === TYPE.databaseConnectionPool) t.next = inRegion(t.region, (x) => x.title === "PostgreSQL").map((x) => x.id);
    else if (t.title === "PostgreSQL") t.next = tiers.filter((x) => x.type === TYPE.databaseReplica).map((x) => x.id);
  }
  return tiers;
}

/**
 * The flowchart (Mermaid source, no fences) of `head`, marking `changes`; deleted tiers are taken from `base`.
 * Without changes it is the deployment as planned.
 */
export function deploymentDiagram(
  head: readonly DiagramResource[],
  changes: readonly DiagramChange[] = [],
  base: readonly DiagramResource[] = [],
): string {
  const change = new Map(changes.map((c) => [idOf(c.type, c.name), c]));
  const tiers = tiersOf(head);
  const deleted = tiersOf(base).filter((t) => change.get(t.id)?.op === "delete" && !tiers.some((x) => x.id === t.id));
  const all = [...tiers, ...deleted];
  const lines = ["flowchart LR", '  users(("users"))'];
  const node = (t: Tier) => {
    const c = change.get(t.id);
    const text = `${c ? MARK[c.op] : ""}${t.title}<br/>${t.redundancy}${c?.dataLossRisk ? "<br/>DATA LOSS RISK" : ""}`;
    return `${t.id}["${label(text).replace(/#lt;br\/#gt;/g, "<br/>")}"]${c ? `:::${c.op}` : ""}`;
  };
  for (const t of all.filter((x) => x.region === undefined)) lines.push(`  ${node(t)}`);
  for (const region of [...new Set(all.map((t) => t.region).filter((r): r is string => r !== undefined))]) {
    lines.push(`  subgraph region_${region.replace(/[^A-Za-z0-9_]/g, "_")}["region ${label(region)}"]`);
    const cluster = all.find((t) => t.region === region && t.type === TYPE.kubernetesCluster);
    const onNodes = all.filter((t) => t.region === region && t.type === TYPE.deployment);
    for (const t of all.filter((x) => x.region === region && x.type !== TYPE.kubernetesCluster && !onNodes.includes(x)))
      lines.push(`    ${node(t)}`);
    if (cluster) {
      lines.push(`    subgraph ${cluster.id}_group["${label(cluster.name)}"]`, `      ${node(cluster)}`);
      for (const t of onNodes) lines.push(`      ${node(t)}`);
      lines.push("    end");
    } else for (const t of onNodes) lines.push(`    ${node(t)}`);
    lines.push("  end");
  }
  const entry = all.filter((t) => t.region === undefined);
  for (const t of entry.length ? entry : all.filter((x) => x.title.endsWith("load balancer"))) lines.push(`  users --> ${t.id}`);
  for (const t of all) for (const n of t.next) lines.push(`  ${t.id} --> ${n}`);
  const shown = new Set(all.map((t) => t.id));
  const others = changes.filter((c) => !shown.has(idOf(c.type, c.name)));
  if (others.length) lines.push(`  others["${others.length} other resource change(s): see the diff"]:::update`);
  lines.push(
    "  classDef create fill:#dcfce7,stroke:#15803d,color:#14532d",
    "  classDef update fill:#fef9c3,stroke:#a16207,color:#713f12",
    "  classDef replace fill:#ffedd5,stroke:#c2410c,color:#7c2d12,stroke-width:3px",
    "  classDef delete fill:#fee2e2,stroke:#b91c1c,color:#7f1d1d,stroke-dasharray:5 5",
  );
  return lines.join("\n");
}
