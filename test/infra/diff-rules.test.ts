/** The diff rules on their own: nested paths, matching by type and name, replacements, data-loss flags. */
import { diffProperties, diffResources, diffViolations } from "../../preview/diff";
import type { PreviewResource } from "../../preview/format";

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

test("an in-place change is an update; a ForceNew change (engine) replaces the cluster and flags data loss", () => {
  expect(diffResources([pg({})], [pg({ nodeCount: 3 })])).toEqual([
    { op: "update", type: pg({}).type, name: "gomeet-prod-pg", diffs: [{ path: "nodeCount", old: 2, new: 3 }], dataLossRisk: false },
  ]);
  expect(diffResources([pg({})], [pg({ engine: "mysql" })])).toEqual([
    {
      op: "replace",
      type: pg({}).type,
      name: "gomeet-prod-pg",
      diffs: [{ path: "engine", old: "pg", new: "mysql", replaces: true }],
      dataLossRisk: true,
      protected: true,
    },
  ]);
});

test.each([
  ["engine", { engine: "valkey" }, "replace"],
  ["a private network", { privateNetworkUuid: "other-vpc" }, "replace"],
  // terraform: region and version are not ForceNew on a database cluster (DigitalOcean migrates and upgrades in place)
  ["a version upgrade (DigitalOcean upgrades in place)", { version: "17" }, "update"],
  ["a region (DigitalOcean migrates the cluster)", { region: "ams3" }, "update"],
])("database cluster: %s → %s", (_what, change, op) => {
  expect(diffResources([pg({})], [pg(change)])[0]!.op).toBe(op);
});

test("replacement rules of the node pool, the Deployment selector, the VPC range and Kubernetes names", () => {
  const r = (type: string, props: Record<string, unknown>): PreviewResource => ({ type, name: "x", protect: false, props });
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    [
      "digitalocean:index/kubernetesCluster:KubernetesCluster",
      { nodePool: { size: "s-2vcpu-4gb" } },
      { nodePool: { size: "s-4vcpu-8gb" } },
    ],
    [
      "kubernetes:apps/v1:Deployment",
      { spec: { selector: { matchLabels: { a: "1" } } } },
      { spec: { selector: { matchLabels: { a: "2" } } } },
    ],
    ["digitalocean:index/vpc:Vpc", { ipRange: "10.20.0.0/16" }, { ipRange: "10.30.0.0/16" }],
    ["kubernetes:core/v1:Service", { metadata: { name: "a" } }, { metadata: { name: "b" } }],
  ];
  for (const [type, before, after] of cases) {
    const [change] = diffResources([r(type, before)], [r(type, after)]);
    expect({ type, op: change!.op, dataLossRisk: change!.dataLossRisk }).toEqual({ type, op: "replace", dataLossRisk: false });
  }
  // DOKS: the version is replaced only when lowered (terraform customdiff.ForceNewIfChange)
  const doks = (version: string) => r("digitalocean:index/kubernetesCluster:KubernetesCluster", { version });
  expect(diffResources([doks("1.33.1-do.0")], [doks("1.32.5-do.0")])[0]!.op).toBe("replace");
  expect(diffResources([doks("1.33.1-do.0")], [doks("1.33.2-do.0")])[0]!.op).toBe("update");
  const [scale] = diffResources(
    [r("digitalocean:index/kubernetesCluster:KubernetesCluster", { nodePool: { minNodes: 3 } })],
    [r("digitalocean:index/kubernetesCluster:KubernetesCluster", { nodePool: { minNodes: 4 } })],
  );
  expect(scale!.op).toBe("update");
});

test("a change under ignoreChanges is no change, as in the engine (the HPA owns a Deployment's replicas)", () => {
  const deployment = (replicas: number, image: string): PreviewResource => ({
    type: "kubernetes:apps/v1:Deployment",
    name: "gomeet-prod-app",
    protect: false,
    props: { spec: { replicas, template: { spec: { containers: [{ image }] } } } },
    ignoreChanges: ["spec.replicas"],
  });
  expect(diffResources([deployment(3, "app:1")], [deployment(4, "app:1")])).toEqual([]);
  expect(diffResources([deployment(3, "app:1")], [deployment(4, "app:2")])[0]!.diffs).toEqual([
    { path: "spec.template.spec.containers[0].image", old: "app:1", new: "app:2" },
  ]);
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

describe("replacement propagation", () => {
  const T = {
    vpc: "digitalocean:index/vpc:Vpc",
    doks: "digitalocean:index/kubernetesCluster:KubernetesCluster",
    db: "digitalocean:index/databaseCluster:DatabaseCluster",
    pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    alert: "digitalocean:index/monitorAlert:MonitorAlert",
    provider: "pulumi:providers:kubernetes",
    ns: "kubernetes:core/v1:Namespace",
    deployment: "kubernetes:apps/v1:Deployment",
  };
  const ref = (type: string, name: string) => `${type}::${name}`;
  const res = (type: string, name: string, props: Record<string, unknown>, extra: Partial<PreviewResource> = {}): PreviewResource => ({
    type,
    name,
    protect: type === T.db,
    props,
    ...extra,
  });
  const plan = (ipRange: string) => [
    res(T.vpc, "vpc", { ipRange }),
    res(T.doks, "doks", { vpcUuid: "vpc-id", region: "nyc3" }, { inputDependencies: { vpcUuid: [ref(T.vpc, "vpc")] } }),
    res(T.db, "pg", { privateNetworkUuid: "vpc-id", engine: "pg" }, { inputDependencies: { privateNetworkUuid: [ref(T.vpc, "vpc")] } }),
    res(
      T.pool,
      "pool",
      { clusterId: "pg-id", size: 22 },
      { inputDependencies: { clusterId: [ref(T.db, "pg")] }, deleteBeforeReplace: true },
    ),
    res(
      T.alert,
      "pg-cpu",
      { entities: ["pg-id"], type: "v1/dbaas/alerts/cpu_alerts" },
      { inputDependencies: { entities: [ref(T.db, "pg")] } },
    ),
    res(T.provider, "k8s", { kubeconfig: "[secret]" }, { inputDependencies: { kubeconfig: [ref(T.doks, "doks")] } }),
    res(T.ns, "ns", { metadata: { name: "gomeet" } }, { provider: ref(T.provider, "k8s") }),
    res(
      T.deployment,
      "app",
      { metadata: { name: "gomeet", namespace: "gomeet", labels: { app: "gomeet" } } },
      {
        provider: ref(T.provider, "k8s"),
        inputDependencies: { metadata: [ref(T.ns, "ns")] },
      },
    ),
  ];

  test("a new VPC range replaces the VPC, then through ForceNew inputs the cluster, the database and what hangs off them", () => {
    const changes = diffResources(plan("10.20.0.0/16"), plan("10.40.0.0/16"));
    const byName = Object.fromEntries(changes.map((c) => [c.name, c]));
    expect(changes.map((c) => [c.name, c.op])).toEqual([
      ["vpc", "replace"],
      ["doks", "replace"],
      ["pg", "replace"],
      ["pool", "replace"],
      ["pg-cpu", "update"], // entities is not ForceNew: the alert is updated with the new cluster's id
      ["k8s", "replace"],
      ["ns", "replace"],
      ["app", "replace"],
    ]);
    expect(byName.pg).toMatchObject({ dataLossRisk: true, protected: true });
    expect(byName.pg!.diffs).toEqual([{ path: "privateNetworkUuid", old: "vpc-id", unknown: "vpc is replaced", replaces: true }]);
    expect(byName.pool).toMatchObject({
      deleteBeforeReplace: true,
      diffs: [{ path: "clusterId", old: "pg-id", unknown: "pg is replaced", replaces: true }],
    });
    expect(byName["pg-cpu"]!.diffs).toEqual([{ path: "entities[0]", old: "pg-id", unknown: "pg is replaced" }]);
    expect(byName.ns!.diffs).toEqual([{ path: "(provider)", old: "k8s", unknown: "its provider k8s is replaced", replaces: true }]);
    // Only the namespace field refers to the Namespace; the label "gomeet" is not its output.
    expect(byName.app!.diffs.map((d) => d.path)).toEqual(["metadata.namespace", "(provider)"]);
  });

  test("a pool size change replaces the pool alone (delete before replace); nothing depends on the pool here", () => {
    const before = plan("10.20.0.0/16");
    const after = plan("10.20.0.0/16").map((r) => (r.name === "pool" ? { ...r, props: { ...r.props, size: 30 } } : r));
    expect(diffResources(before, after)).toEqual([
      {
        op: "replace",
        type: T.pool,
        name: "pool",
        diffs: [{ path: "size", old: 22, new: 30, replaces: true }],
        dataLossRisk: false,
        deleteBeforeReplace: true,
      },
    ]);
  });
});
