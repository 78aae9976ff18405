/**
 * Provider conformance in every test run: every stack file renders to a plan whose DigitalOcean inputs and
 * annotations conform to DigitalOcean's own rules (infra/provider-facts/digitalocean.json), and the check
 * catches a seeded bad value with the resource, the property, the value and the source.
 */
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import type { PlannedResource } from "../../preview/plan";
import { runPolicies } from "../../preview/runner";
import { providerConformance } from "../../policies/rules/provider-conformance";
import { listStacks } from "../../preview/stack-file";
import type { RenderedPlan } from "../../preview/render";
import { one, renderRepoStack, ROOT, runPreview } from "./plan-helpers";

const SOURCE = /\(source: [\w.-]+\/[\w.-]+@[0-9a-f]{40}:[^)]+\)\.$/;
const LB = "service.beta.kubernetes.io/do-loadbalancer";

let plan: RenderedPlan;
beforeAll(async () => {
  plan = await renderRepoStack("prod");
});

/** The conformance policy alone over `resources`. */
async function conformance(resources: PlannedResource[]) {
  return (await runPolicies(resources, {}, [providerConformance])).violations;
}

/** `plan` with one resource's props edited. */
function seeded(type: string, name: string, edit: (props: Record<string, any>) => void): PlannedResource[] {
  return plan.resources.map((r) => {
    if (r.type !== type || r.name !== name) return r;
    const props = structuredClone(r.props);
    edit(props);
    return { ...r, props };
  });
}

test.each(listStacks(ROOT).filter((s) => !s.startsWith("test-")))("stack %s conforms to DigitalOcean's published rules", (stack) => {
  const r = runPreview(["--stack", stack, "--json"]);
  expect(r.stderr).not.toMatch(/preview: (?!rendering)/);
  const doc = JSON.parse(r.stdout);
  expect(doc.policies.violations.filter((v: { policy: string }) => v.policy === "provider-conformance")).toEqual([]);
});

test("the rendered prod plan passes, and every DigitalOcean resource type in it has facts", async () => {
  expect(await conformance(plan.resources)).toEqual([]);
  const types = new Set(plan.resources.filter((r) => r.type.startsWith("digitalocean:")).map((r) => r.type));
  expect(types.size).toBeGreaterThanOrEqual(10);
});

test.each([
  [
    "an eviction policy spelled the TypeScript way",
    "digitalocean:index/databaseCluster:DatabaseCluster",
    "gomeet-prod-valkey",
    (p: Record<string, any>) => (p.evictionPolicy = "allkeysLru"),
    /^DatabaseCluster "gomeet-prod-valkey": evictionPolicy is "allkeysLru"; required one of "noeviction", "allkeys_lru", .* \(source: digitalocean\/openapi@[0-9a-f]{40}:specification\/resources\/databases\/models\/eviction_policy_model\.yml\)\.$/,
  ],
  [
    "an unknown load balancer annotation",
    "kubernetes:core/v1:Service",
    "gomeet-prod-service",
    (p: Record<string, any>) => (p.metadata.annotations[`${LB}-idle-timeout`] = "600"),
    /^Service "gomeet-prod-service": metadata\.annotations\["service\.beta\.kubernetes\.io\/do-loadbalancer-idle-timeout"\] is "600"; required an annotation the DigitalOcean CCM knows .*annotations\.md\)\.$/,
  ],
  [
    "an idle timeout above the API's 600 s",
    "kubernetes:core/v1:Service",
    "gomeet-prod-service",
    (p: Record<string, any>) => (p.metadata.annotations[`${LB}-http-idle-timeout-seconds`] = "900"),
    /http-idle-timeout-seconds"\] is "900"; required a string of digits, 30\.\.600 \(source: digitalocean\/openapi@[0-9a-f]{40}:specification\/resources\/load_balancers\/models\/load_balancer_base\.yml\)\.$/,
  ],
  [
    "a boolean annotation that is not a string",
    "kubernetes:core/v1:Service",
    "gomeet-prod-service",
    (p: Record<string, any>) => (p.metadata.annotations[`${LB}-redirect-http-to-https`] = true),
    /redirect-http-to-https"\] is true; required "true" or "false" \(a string\)/,
  ],
  [
    "a health check interval below the CCM's 3 s",
    "kubernetes:core/v1:Service",
    "gomeet-prod-service",
    (p: Record<string, any>) => (p.metadata.annotations[`${LB}-healthcheck-check-interval-seconds`] = "1"),
    /check-interval-seconds"\] is "1"; required a string of digits, 3\.\.300 \(source: digitalocean\/digitalocean-cloud-controller-manager@/,
  ],
  [
    "a public VPC range",
    "digitalocean:index/vpc:Vpc",
    "gomeet-prod-vpc",
    (p: Record<string, any>) => (p.ipRange = "8.8.0.0/16"),
    /^Vpc "gomeet-prod-vpc": ipRange is "8\.8\.0\.0\/16"; required a private \(RFC 1918\) IPv4 range from \/16 to \/28 \(source: digitalocean\/openapi@/,
  ],
  [
    "a monitor alert type the API does not have",
    "digitalocean:index/monitorAlert:MonitorAlert",
    "gomeet-prod-lb-5xx",
    (p: Record<string, any>) => (p.type = "v1/insights/lbaas/http_error_rate_5xx"),
    /^MonitorAlert "gomeet-prod-lb-5xx": type is "v1\/insights\/lbaas\/http_error_rate_5xx"; required one of .*monitoring\/models\/alert_policy_request\.yml\)\.$/,
  ],
  [
    "an uptime period the API does not have",
    "digitalocean:index/uptimeAlert:UptimeAlert",
    "gomeet-prod-down",
    (p: Record<string, any>) => (p.period = "1m"),
    /^UptimeAlert "gomeet-prod-down": period is "1m"; required one of "2m", "3m", .*\/uptime\/(models\/alert\.yml|resource_uptime_alert\.go)\)\.$/,
  ],
  [
    "a firewall rule type in camelCase",
    "digitalocean:index/databaseFirewall:DatabaseFirewall",
    "gomeet-prod-pg-firewall",
    (p: Record<string, any>) => (p.rules[0].type = "ipAddr"),
    /^DatabaseFirewall "gomeet-prod-pg-firewall": rules\[0\]\.type is "ipAddr"; required one of "ip_addr", .*terraform-provider-digitalocean@[0-9a-f]{40}:digitalocean\/database\/resource_database_firewall\.go\)\.$/,
  ],
  [
    "an input the provider does not have",
    "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    "gomeet-prod-pg-pool",
    (p: Record<string, any>) => (p.poolMode = "transaction"),
    /^DatabaseConnectionPool "gomeet-prod-pg-pool": poolMode is "transaction"; required no such input .*schema\.json\)\.$/,
  ],
  [
    "a missing required input",
    "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    "gomeet-prod-pg-pool",
    (p: Record<string, any>) => delete p.mode,
    /^DatabaseConnectionPool "gomeet-prod-pg-pool": mode is unset; required a value \(a required input\)/,
  ],
  [
    "an ssl_expiry uptime alert without the period the API requires",
    "digitalocean:index/uptimeAlert:UptimeAlert",
    "gomeet-prod-ssl-expiry",
    (p: Record<string, any>) => delete p.period,
    /^UptimeAlert "gomeet-prod-ssl-expiry": period is unset; required a value \(DigitalOcean's API requires it on create\) \(source: digitalocean\/openapi@[0-9a-f]{40}:specification\/resources\/uptime\/create_alert\.yml\)\.$/,
  ],
])("the check catches %s", async (_what, type, name, edit, message) => {
  one(plan, type, name); // the seeded resource exists
  const violations = await conformance(seeded(type, name, edit));
  expect(violations).toEqual([
    expect.objectContaining({
      policy: "provider-conformance",
      level: "mandatory",
      resource: name,
      message: expect.stringMatching(message),
    }),
  ]);
  expect(violations[0]!.message).toMatch(SOURCE);
});

test("in a real preview, values unknown until apply are skipped and the engine's __defaults key is not an input", async () => {
  const firewall = "digitalocean:index/databaseFirewall:DatabaseFirewall";
  const plan = seeded(firewall, "gomeet-prod-pg-firewall", (p) => {
    p.clusterId = unknownValue;
    p.rules[0].value = unknownValue;
    p.__defaults = [];
  });
  expect(await conformance(plan)).toEqual([]);
});

describe("size and count rules DigitalOcean enforces (the facts' limits, with their sources)", () => {
  test.each([
    [
      "PostgreSQL standby nodes on a 1 GB plan",
      "digitalocean:index/databaseCluster:DatabaseCluster",
      "gomeet-prod-pg",
      (p: Record<string, any>) => Object.assign(p, { size: "db-s-1vcpu-1gb", nodeCount: 2 }),
      /^DatabaseCluster "gomeet-prod-pg": size is "db-s-1vcpu-1gb"; required a plan with at least 2 GB of memory when the cluster has standby nodes \(2 nodes\)/,
    ],
    [
      "a Valkey cluster with two standbys",
      "digitalocean:index/databaseCluster:DatabaseCluster",
      "gomeet-prod-valkey",
      (p: Record<string, any>) => (p.nodeCount = 3),
      /^DatabaseCluster "gomeet-prod-valkey": nodeCount is 3; required at most 2 nodes for valkey \(1 standby\): "Valkey clusters can have up to one standby node\./,
    ],
    [
      "a DOKS node below the smallest size DOKS offers",
      "digitalocean:index/kubernetesCluster:KubernetesCluster",
      "gomeet-prod-doks",
      (p: Record<string, any>) => (p.nodePool.size = "s-1vcpu-1gb"),
      /^KubernetesCluster "gomeet-prod-doks": nodePool\.size is "s-1vcpu-1gb"; required a node size with at least 2 GB of memory/,
    ],
  ])("catches %s, naming the property and the sources", async (_what, type, name, edit, message) => {
    one(plan, type, name);
    const violations = await conformance(seeded(type, name, edit));
    expect(violations).toEqual([
      expect.objectContaining({ policy: "provider-conformance", resource: name, message: expect.stringMatching(message) }),
    ]);
    expect(violations[0]!.message).toMatch(
      /\(source: (digitalocean\/openapi@[0-9a-f]{40}:[^;]+|https:\/\/docs\.digitalocean\.com\/[^;]+)(; [^;]+)*\)\.$/,
    );
  });

  test("a standby on a 2 GB plan and a single 1 GB node pass", async () => {
    const ok = seeded("digitalocean:index/databaseCluster:DatabaseCluster", "gomeet-prod-valkey", (p) =>
      Object.assign(p, { size: "db-s-1vcpu-1gb", nodeCount: 1 }),
    );
    expect(await conformance(ok)).toEqual([]);
  });
});
