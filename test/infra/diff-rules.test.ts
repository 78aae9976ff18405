/** The diff rules on their own: nested paths, matching by type and name, replacements, data-loss flags. */
import { diffProperties, diffResources, diffViolations } from "../../scripts/preview/diff";
import type { PreviewResource } from "../../scripts/preview/format";

const pg = (props: Record<string, unknown>, protect = true): PreviewResource => ({
  type: "digitalocean:index/databaseCluster:DatabaseCluster",
  name: "gomeet-prod-pg",
  parent: "postgres",
  protect,
  props: { engine: "pg", version: "16", region: "nyc3", nodeCount: 2, ...props },
});

test("nested paths, array indices and annotation keys with dots", () => {
  const lb = "service.beta.kubernetes.io/do-loadbalancer-size-unit";
  expect(
    diffProperties(
      { spec: { replicas: 3, ports: [{ port: 80 }] }, metadata: { annotations: { [lb]: "2" } } },
      { spec: { replicas: 4, ports: [{ port: 80 }, { port: 443 }] }, metadata: { annotations: { [lb]: "3" } } },
    ),
  ).toEqual([
    { path: `metadata.annotations["${lb}"]`, old: "2", new: "3" },
    { path: "spec.ports[1]", new: { port: 443 } },
    { path: "spec.replicas", old: 3, new: 4 },
  ]);
});

test("identical plans have no changes; secrets compare as [secret] on both sides", () => {
  const secret = { type: "kubernetes:core/v1:Secret", name: "s", protect: false, props: { stringData: "[secret]" } };
  expect(diffResources([pg({}), secret], [pg({}), secret])).toEqual([]);
});

test("an in-place change is an update; a region change replaces the cluster and flags data loss", () => {
  expect(diffResources([pg({})], [pg({ nodeCount: 3 })])).toEqual([
    { op: "update", type: pg({}).type, name: "gomeet-prod-pg", diffs: [{ path: "nodeCount", old: 2, new: 3 }], dataLossRisk: false },
  ]);
  expect(diffResources([pg({})], [pg({ region: "ams3" })])).toEqual([
    {
      op: "replace",
      type: pg({}).type,
      name: "gomeet-prod-pg",
      diffs: [{ path: "region", old: "nyc3", new: "ams3", replaces: true }],
      dataLossRisk: true,
      protected: true,
    },
  ]);
});

test.each([
  ["engine", { engine: "valkey" }, "replace"],
  ["a version downgrade", { version: "15" }, "replace"],
  ["a version upgrade (DigitalOcean upgrades in place)", { version: "17" }, "update"],
])("database cluster: %s → %s", (_what, change, op) => {
  expect(diffResources([pg({})], [pg(change)])[0]!.op).toBe(op);
});

test("replacement rules of the node pool, the Deployment selector, the VPC range and Kubernetes names", () => {
  const r = (type: string, props: Record<string, unknown>): PreviewResource => ({ type, name: "x", protect: false, props });
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["digitalocean:index/kubernetesCluster:KubernetesCluster", { nodePool: { size: "s-2vcpu-4gb" } }, { nodePool: { size: "s-4vcpu-8gb" } }],
    ["kubernetes:apps/v1:Deployment", { spec: { selector: { matchLabels: { a: "1" } } } }, { spec: { selector: { matchLabels: { a: "2" } } } }],
    ["digitalocean:index/vpc:Vpc", { ipRange: "10.20.0.0/16" }, { ipRange: "10.30.0.0/16" }],
    ["kubernetes:core/v1:Service", { metadata: { name: "a" } }, { metadata: { name: "b" } }],
  ];
  for (const [type, before, after] of cases) {
    const [change] = diffResources([r(type, before)], [r(type, after)]);
    expect({ type, op: change!.op, dataLossRisk: change!.dataLossRisk }).toEqual({ type, op: "replace", dataLossRisk: false });
  }
  const [scale] = diffResources(
    [r("digitalocean:index/kubernetesCluster:KubernetesCluster", { nodePool: { minNodes: 3 } })],
    [r("digitalocean:index/kubernetesCluster:KubernetesCluster", { nodePool: { minNodes: 4 } })],
  );
  expect(scale!.op).toBe("update");
});

test("a rename is a delete and a create; deleting a database cluster is a data-loss risk", () => {
  const renamed = { ...pg({}), name: "gomeet-prod-postgres" };
  expect(diffResources([pg({})], [renamed]).map((c) => [c.op, c.name, c.dataLossRisk, c.protected ?? false])).toEqual([
    ["create", "gomeet-prod-postgres", false, false],
    ["delete", "gomeet-prod-pg", true, true],
  ]);
});

test("violations the change introduces and fixes", () => {
  const a = { policy: "p", level: "mandatory" as const, resource: "r", message: "m1" };
  const b = { policy: "q", level: "advisory" as const, message: "m2" };
  expect(diffViolations([a], [b])).toEqual({ introduced: [b], fixed: [a] });
  expect(diffViolations([a], [a])).toEqual({ introduced: [], fixed: [] });
});
