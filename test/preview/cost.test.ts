/**
 * The monthly cost estimate: list prices from preview/cost/digitalocean-prices.json, nodes at the autoscaler's
 * minimum, unknown sizes and types unpriced (never guessed); and the preview's `cost` blocks end to end: one more
 * minimum node costs exactly that node size's list price.
 */
import { costDelta, estimateCost, formatCost, type CostedResource } from "../../preview/cost/estimate";
import { loadPrices, priceTableSchema } from "../../preview/cost/prices";
import { TYPE } from "../../infra/type-tokens";
import { runPreview, temporaryStack } from "../infra/plan-helpers";

const prices = loadPrices();
const cluster = (nodePool: Record<string, unknown>, ha = true): CostedResource => ({
  type: TYPE.kubernetesCluster,
  name: "doks",
  props: { ha, nodePool },
});
const lb = (annotations: Record<string, string>): CostedResource => ({
  type: TYPE.service,
  name: "svc",
  props: { metadata: { annotations }, spec: { type: "LoadBalancer" } },
});

test("every price names a source with its URL and the date it was read", () => {
  expect(() => priceTableSchema.parse(prices)).not.toThrow();
  for (const s of Object.values(prices.sources)) {
    expect(s.url).toMatch(/^https:\/\//);
    expect(s.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  }
});

test("nodes are priced at the autoscaler's minimum, the maximum said too; the HA control plane is its own line", () => {
  const each = prices.dropletSizes.monthlyUsd["s-4vcpu-8gb"]!;
  const cost = estimateCost([cluster({ size: "s-4vcpu-8gb", autoScale: true, minNodes: 3, maxNodes: 6 })], prices);
  expect(cost.lines).toEqual([
    {
      resource: "doks (control plane)",
      type: TYPE.kubernetesCluster,
      monthlyUsd: prices.kubernetes.haControlPlaneMonthlyUsd,
      basis: "HA control plane",
    },
    expect.objectContaining({ resource: "doks (nodes)", monthlyUsd: 3 * each, maxMonthlyUsd: 6 * each }),
  ]);
  expect(cost.monthlyUsd).toBe(prices.kubernetes.haControlPlaneMonthlyUsd + 3 * each);
  expect(cost.maxMonthlyUsd).toBe(prices.kubernetes.haControlPlaneMonthlyUsd + 6 * each);
});

test("one more minimum node: the delta is that node size's list price", () => {
  const size = "s-2vcpu-4gb";
  const before = estimateCost([cluster({ size, autoScale: true, minNodes: 3, maxNodes: 6 })], prices);
  const after = estimateCost([cluster({ size, autoScale: true, minNodes: 4, maxNodes: 6 })], prices);
  expect(costDelta(before, after).deltaMonthlyUsd).toBe(prices.dropletSizes.monthlyUsd[size]);
});

test("an unknown node size, database size or load balancer kind is unpriced, and the total leaves it out", () => {
  const cost = estimateCost(
    [
      cluster({ size: "s-99vcpu-1tb", autoScale: false, nodeCount: 2 }, false),
      { type: TYPE.databaseCluster, name: "pg", props: { engine: "pg", size: "db-unknown", nodeCount: 2 } },
      lb({ "service.beta.kubernetes.io/do-loadbalancer-type": "GLOBAL" }),
      { type: "digitalocean:index/spacesBucket:SpacesBucket", name: "bucket", props: {} },
      { type: TYPE.deployment, name: "app", props: {} },
    ],
    prices,
  );
  expect(cost.unpriced).toEqual(["doks (nodes)", "pg", "svc (load balancer)", "bucket"]);
  expect(cost.monthlyUsd).toBe(prices.kubernetes.controlPlaneMonthlyUsd);
  expect(cost.lines.find((l) => l.resource === "pg")?.basis).toMatch(/no list price for database size db-unknown/);
  expect(formatCost(cost)).toMatch(/4 resource\(s\) unpriced/);
});

test("a regional load balancer costs its size unit in nodes; the CCM's default is one node", () => {
  const per = prices.loadBalancer.regionalPerNodeMonthlyUsd;
  expect(estimateCost([lb({ "service.beta.kubernetes.io/do-loadbalancer-size-unit": "3" })], prices).monthlyUsd).toBe(3 * per);
  expect(estimateCost([lb({})], prices).monthlyUsd).toBe(per);
});

describe("the preview CLI", () => {
  let stack: { stack: string; remove(): void } | undefined;
  afterAll(() => stack?.remove());

  test("--json carries the cost block; --against-stack with one more minimum node per cluster shows its list price per cluster as the delta (JSON, text, Markdown)", () => {
    const single = runPreview(["--stack", "prod", "--json"]);
    expect(single.status).toBe(0);
    const doc = JSON.parse(single.stdout);
    expect(doc.cost).toMatchObject({ monthlyUsd: expect.any(Number), priceSource: { file: "preview/cost/digitalocean-prices.json" } });
    expect(doc.cost.lines).toContainEqual(expect.objectContaining({ resource: "gomeet-prod-doks (nodes)", type: TYPE.kubernetesCluster }));

    stack = temporaryStack("prod", (config) => (config["gomeet:kubernetes"].minNodes += 1));
    const diff = runPreview(["--stack", stack.stack, "--against-stack", "prod", "--json"]);
    expect(diff.status).toBe(0);
    // gomeet:kubernetes.minNodes sets every region's cluster (the standby region's too): one more node in each.
    const clusters = doc.resources.filter((r: { type: string }) => r.type === TYPE.kubernetesCluster);
    const size = clusters[0].props.nodePool.size as string;
    expect(clusters.every((c: { props: { nodePool: { size: string } } }) => c.props.nodePool.size === size)).toBe(true);
    const each = prices.dropletSizes.monthlyUsd[size]!;
    expect(JSON.parse(diff.stdout).cost).toMatchObject({ beforeMonthlyUsd: doc.cost.monthlyUsd, deltaMonthlyUsd: clusters.length * each });
    const delta = `+$${(clusters.length * each).toFixed(2)}`;
    const readable = runPreview(["--stack", stack.stack, "--against-stack", "prod"]);
    expect(readable.stdout).toContain(`(${delta})`);
    const markdown = runPreview(["--stack", stack.stack, "--against-stack", "prod", "--format", "markdown"]);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout).toContain(`cost ${delta}/month`);
    expect(markdown.stdout).toMatch(/```mermaid\nflowchart LR\n[\s\S]*~ DOKS cluster[\s\S]*```/);
    expect(markdown.stdout).toMatch(/<details>\n<summary>Full diff \(\d+ change\(s\)\)<\/summary>/);
  }, 120_000);
});
