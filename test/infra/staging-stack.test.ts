/** The staging stack renders: the same architecture, smaller, and without a domain. */
import type { RenderedPlan } from "../../preview/render";
import { firstUpChecklist } from "../../preview/checklist";
import { all, one, renderRepoStack } from "./plan-helpers";

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("staging");
});

test("smaller tiers: single database nodes, no read replica, 2 app replicas, 2-4 nodes", () => {
  const pg = one(plan, "digitalocean:index/databaseCluster:DatabaseCluster", "gomeet-staging-pg");
  expect(pg.props).toMatchObject({ nodeCount: 1, size: "db-s-1vcpu-1gb" });
  expect(pg.protect).toBe(true);
  expect(all(plan, "digitalocean:index/databaseReplica:DatabaseReplica")).toHaveLength(0);
  expect(one(plan, "kubernetes:apps/v1:Deployment").props).toMatchObject({ spec: { replicas: 2 } });
  expect(one(plan, "kubernetes:policy/v1:PodDisruptionBudget").props).toMatchObject({ spec: { minAvailable: 1 } });
  expect(one(plan, "digitalocean:index/kubernetesCluster:KubernetesCluster").props).toMatchObject({
    ha: true,
    nodePool: { minNodes: 2, maxNodes: 4 },
  });
  expect(one(plan, "digitalocean:index/project:Project").props.environment).toBe("Staging");
  expect(one(plan, "digitalocean:index/vpc:Vpc").props.ipRange).toBe("10.30.0.0/16"); // not prod's: same account
});

test("without a domain: no certificate, no DNS record, plain HTTP uptime check on the load balancer IP", () => {
  expect(all(plan, "digitalocean:index/certificate:Certificate")).toHaveLength(0);
  expect(all(plan, "digitalocean:index/dnsRecord:DnsRecord")).toHaveLength(0);
  expect(one(plan, "digitalocean:index/uptimeCheck:UptimeCheck", "gomeet-staging-uptime").props).toMatchObject({
    type: "http",
    target: "http://203.0.113.10/readyz",
  });
  const uptimeAlerts = all(plan, "digitalocean:index/uptimeAlert:UptimeAlert").map((a) => a.props.type);
  expect(uptimeAlerts.sort()).toEqual(["down_global", "latency"]);
  const annotations = one(plan, "kubernetes:core/v1:Service", "gomeet-staging-service").props.metadata as {
    annotations: Record<string, string>;
  };
  expect(Object.keys(annotations.annotations).filter((k) => /certificate|tls-ports|redirect/.test(k))).toEqual([]);
  expect(plan.outputs.endpoint).toEqual({ value: "http://203.0.113.10", secret: false });
});

test("no Slack configured: alerts go to email only", () => {
  for (const a of all(plan, "digitalocean:index/monitorAlert:MonitorAlert")) {
    expect(a.props.alerts).toEqual({ emails: ["staging-alerts@gomeet.example"], slacks: [] });
  }
});

test("the first-up checklist has no DNS item without a domain", () => {
  const checks = firstUpChecklist(plan.resources).map((c) => c.check);
  expect(checks).toEqual([
    "no other VPC of the account overlaps 10.30.0.0/16 (gomeet:network.ipRange)",
    "DOKS still offers a version with the prefix 1.33. (gomeet:kubernetes.versionPrefix)",
    "every alert e-mail is verified on the DigitalOcean account: staging-alerts@gomeet.example",
    'the container registry "gomeet" exists on the account and holds app:0.1.0',
    'the cluster runs no metrics-server of its own that the Helm release "metrics-server" (kube-system) would collide with',
    "the PostgreSQL cluster gomeet-staging-pg's certificate names its private host, which the app connects to under sslmode=verify-full",
    "the Valkey cluster gomeet-staging-valkey's certificate verifies with the CA DigitalOcean returns for it, host name included",
  ]);
});
