/**
 * A monthly cost estimate of a plan from list prices (prices.ts): one line per billed resource, nodes at the
 * autoscaler's minimum (the maximum said too), and a resource the price table does not know shown as unpriced
 * (monthlyUsd null), never guessed. Kubernetes objects other than a LoadBalancer Service run on the nodes and
 * bill nothing of their own; volumes claimed by a chart's volumeClaimTemplate are listed (unpriced).
 */
import { DO_LOAD_BALANCER_ANNOTATION_PREFIX } from "../../infra/annotations";
import { TYPE } from "../../infra/type-tokens";
import { PRICE_FILE, type PriceTable } from "./prices";

/** What the estimate reads of a planned resource. */
export interface CostedResource {
  type: string;
  name: string;
  props: Record<string, unknown>;
}

export interface CostLine {
  resource: string;
  type: string;
  /** null: unpriced (the table has no price for this type or size). */
  monthlyUsd: number | null;
  /** How the figure was reached, or why there is none. */
  basis: string;
  /** With autoscaling: the cost at the autoscaler's maximum. */
  maxMonthlyUsd?: number;
}

export interface CostEstimate {
  /** Sum of the priced lines (unpriced ones add nothing: see `unpriced`). */
  monthlyUsd: number;
  /** The same with every node pool at its autoscaler's maximum. */
  maxMonthlyUsd: number;
  lines: CostLine[];
  /** Resources with no price in the table. */
  unpriced: string[];
  priceSource: { file: string; read: string; urls: string[] };
}

/** The cost fields of a diff. */
export interface CostDelta {
  beforeMonthlyUsd: number;
  afterMonthlyUsd: number;
  deltaMonthlyUsd: number;
  /** Unpriced resources on either side: the delta leaves them out. */
  unpriced: string[];
}

const KUBERNETES_NODE_POOL = "digitalocean:index/kubernetesNodePool:KubernetesNodePool";
const LOAD_BALANCER = "digitalocean:index/loadBalancer:LoadBalancer";
const cents = (n: number) => Math.round(n * 100) / 100;
const money = (n: number) => `$${cents(n).toFixed(2)}`;
const record = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});

/** A node pool (the cluster's own `nodePool` or a KubernetesNodePool): size × min nodes, max said too. */
function nodePoolLine(resource: string, type: string, pool: Record<string, unknown>, prices: PriceTable): CostLine {
  const size = String(pool.size);
  const autoScale = pool.autoScale === true;
  const min = Number(autoScale ? pool.minNodes : (pool.nodeCount ?? pool.minNodes));
  const max = Number(autoScale ? pool.maxNodes : min);
  const each = prices.dropletSizes.monthlyUsd[size];
  if (each === undefined) return { resource, type, monthlyUsd: null, basis: `unpriced: no list price for node size ${size}` };
  const range = autoScale ? ` (autoscaler minimum; up to ${max} nodes = ${money(each * max)})` : "";
  return {
    resource,
    type,
    monthlyUsd: cents(each * min),
    basis: `${min} × ${size} at ${money(each)}${range}`,
    maxMonthlyUsd: cents(each * max),
  };
}

function kubernetesLines(r: CostedResource, prices: PriceTable): CostLine[] {
  const ha = r.props.ha === true;
  const controlPlane: CostLine = {
    resource: `${r.name} (control plane)`,
    type: r.type,
    monthlyUsd: ha ? prices.kubernetes.haControlPlaneMonthlyUsd : prices.kubernetes.controlPlaneMonthlyUsd,
    basis: ha ? "HA control plane" : "control plane (included at no cost)",
  };
  return [controlPlane, nodePoolLine(`${r.name} (nodes)`, r.type, record(r.props.nodePool), prices)];
}

/** A load balancer of `type` with `sizeUnit` nodes: REGIONAL is priced per node; other kinds are not in the table. */
function loadBalancerLine(resource: string, type: string, lbType: string, sizeUnit: number, prices: PriceTable): CostLine {
  if (lbType !== "REGIONAL") return { resource, type, monthlyUsd: null, basis: `unpriced: no list price for a ${lbType} load balancer` };
  const each = prices.loadBalancer.regionalPerNodeMonthlyUsd;
  return { resource, type, monthlyUsd: cents(each * sizeUnit), basis: `REGIONAL load balancer, ${sizeUnit} node(s) at ${money(each)}` };
}

/** `volumeClaimTemplate`s anywhere in a Helm release's values: the volumes the chart's StatefulSets claim. */
function claimedVolumes(value: unknown, path = ""): { path: string; storage: string; storageClass?: string }[] {
  if (typeof value !== "object" || value === null) return [];
  const own = record(value);
  const template = record(own.volumeClaimTemplate);
  const spec = record(template.spec);
  const storage = record(record(spec.resources).requests).storage;
  const here = typeof storage === "string" ? [{ path, storage, storageClass: spec.storageClassName as string | undefined }] : [];
  return [
    ...here,
    ...Object.entries(own).flatMap(([k, v]) => (k === "volumeClaimTemplate" ? [] : claimedVolumes(v, path ? `${path}.${k}` : k))),
  ];
}

function linesOf(r: CostedResource, prices: PriceTable): CostLine[] {
  switch (r.type) {
    case TYPE.kubernetesCluster:
      return kubernetesLines(r, prices);
    case KUBERNETES_NODE_POOL:
      return [nodePoolLine(r.name, r.type, r.props, prices)];
    case TYPE.databaseCluster:
    case TYPE.databaseReplica: {
      const nodes = r.type === TYPE.databaseReplica ? 1 : Number(r.props.nodeCount ?? 1);
      const size = String(r.props.size);
      const each = prices.databaseNodes.monthlyUsd[size];
      const what = r.type === TYPE.databaseReplica ? "read-only node" : `${nodes} node(s), ${String(r.props.engine)}`;
      return [
        each === undefined
          ? { resource: r.name, type: r.type, monthlyUsd: null, basis: `unpriced: no list price for database size ${size} (${what})` }
          : { resource: r.name, type: r.type, monthlyUsd: cents(each * nodes), basis: `${what} × ${size} at ${money(each)}` },
      ];
    }
    case TYPE.service: {
      if (record(r.props.spec).type !== "LoadBalancer") return [];
      const annotations = record(record(r.props.metadata).annotations);
      const lbType = String(annotations[`${DO_LOAD_BALANCER_ANNOTATION_PREFIX}type`] ?? "REGIONAL");
      const sizeUnit = Number(annotations[`${DO_LOAD_BALANCER_ANNOTATION_PREFIX}size-unit`] ?? 1);
      return [loadBalancerLine(`${r.name} (load balancer)`, r.type, lbType, sizeUnit, prices)];
    }
    case LOAD_BALANCER:
      return [loadBalancerLine(r.name, r.type, String(r.props.type ?? "REGIONAL"), Number(r.props.sizeUnit ?? 1), prices)];
    case TYPE.certificate:
      return r.props.type === "lets_encrypt"
        ? [
            {
              resource: r.name,
              type: r.type,
              monthlyUsd: prices.loadBalancer.letsEncryptCertificateMonthlyUsd,
              basis: "Let's Encrypt certificate",
            },
          ]
        : [{ resource: r.name, type: r.type, monthlyUsd: null, basis: "unpriced: not a Let's Encrypt certificate" }];
    case TYPE.helmRelease:
      return claimedVolumes(r.props.values).map((v) => ({
        resource: `${r.name} (volume ${v.path})`,
        type: r.type,
        monthlyUsd: null,
        basis: `unpriced: ${v.storage} ${v.storageClass ?? ""} volume (no list price for volumes in the table)`.replace("  ", " "),
      }));
    default:
      return r.type.startsWith("digitalocean:") ? [{ resource: r.name, type: r.type, monthlyUsd: null, basis: UNPRICED_TYPE }] : [];
  }
}

/** The monthly cost estimate of a plan's resources. */
export function estimateCost(resources: readonly CostedResource[], prices: PriceTable): CostEstimate {
  const lines = resources.flatMap((r) => linesOf(r, prices));
  const sum = (pick: (l: CostLine) => number | null | undefined) => cents(lines.reduce((s, l) => s + (pick(l) ?? 0), 0));
  return {
    monthlyUsd: sum((l) => l.monthlyUsd),
    maxMonthlyUsd: sum((l) => l.maxMonthlyUsd ?? l.monthlyUsd),
    lines,
    unpriced: lines.filter((l) => l.monthlyUsd === null).map((l) => l.resource),
    priceSource: { file: PRICE_FILE, read: prices.read, urls: [...new Set(Object.values(prices.sources).map((s) => s.url))] },
  };
}

/** Before, after and delta of two estimates. */
export function costDelta(before: CostEstimate, after: CostEstimate): CostDelta {
  return {
    beforeMonthlyUsd: before.monthlyUsd,
    afterMonthlyUsd: after.monthlyUsd,
    deltaMonthlyUsd: cents(after.monthlyUsd - before.monthlyUsd),
    unpriced: [...new Set([...before.unpriced, ...after.unpriced])],
  };
}

/** "+$48.00/month" style. */
export function formatUsd(n: number, signed = false): string {
  const sign = signed ? (n > 0 ? "+" : n < 0 ? "-" : "±") : n < 0 ? "-" : "";
  return `${sign}$${Math.abs(cents(n)).toFixed(2)}`;
}

const UNPRICED_TYPE = "unpriced: no list price for this resource type";

/** The readable cost section of a preview: each priced or sized line, then the unpriced resource types counted. */
export function formatCost(cost: CostEstimate): string {
  const shown = cost.lines.filter((l) => l.basis !== UNPRICED_TYPE);
  const width = Math.max(8, ...shown.map((l) => l.resource.length));
  const lines = ["", `Monthly cost (list prices read ${cost.priceSource.read}, ${cost.priceSource.file})`];
  for (const l of shown)
    lines.push(`  ${l.resource.padEnd(width)}  ${(l.monthlyUsd === null ? "unpriced" : formatUsd(l.monthlyUsd)).padStart(9)}  ${l.basis}`);
  const byType = new Map<string, number>();
  for (const l of cost.lines.filter((x) => x.basis === UNPRICED_TYPE))
    byType.set(l.type.split(":").pop()!, (byType.get(l.type.split(":").pop()!) ?? 0) + 1);
  if (byType.size)
    lines.push(`  ${"other".padEnd(width)}  ${"unpriced".padStart(9)}  ${[...byType].map(([t, n]) => `${n} ${t}`).join(", ")}`);
  lines.push(
    `  ${"total".padEnd(width)}  ${formatUsd(cost.monthlyUsd).padStart(9)}  per month, nodes at the autoscaler's minimum (${formatUsd(cost.maxMonthlyUsd)} at its maximum)`,
  );
  if (cost.unpriced.length)
    lines.push(`  ${cost.unpriced.length} resource(s) unpriced (not in the price table, never guessed): the total leaves them out.`);
  return lines.join("\n");
}

/** The readable cost line of a diff. */
export function formatCostDelta(d: CostDelta): string {
  const tail = d.unpriced.length ? ` (${d.unpriced.length} unpriced resource(s) left out)` : "";
  return `Cost: ${formatUsd(d.beforeMonthlyUsd)} → ${formatUsd(d.afterMonthlyUsd)} per month (${formatUsd(d.deltaMonthlyUsd, true)})${tail}.`;
}
