/**
 * `npm run preview` end to end: the JSON document, the readable tree with the scorecard, exit codes,
 * secrets never printed, and any `Pulumi.<name>.yaml` in the root.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runPreview, temporaryStack, type CliResult } from "./plan-helpers";
import { SECRET_PLACEHOLDER } from "../../preview/stack-file";

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

let prodJson: CliResult;
let prodText: CliResult;
beforeAll(() => {
  prodJson = runPreview(["--stack", "prod", "--json"]);
  prodText = runPreview(["--stack", "prod"]);
});

test("--json prints exactly one JSON document with the planned resources and no violations", () => {
  expect(prodJson.stderr).toBe("");
  expect(prodJson.status).toBe(0);
  const doc = JSON.parse(prodJson.stdout);
  expect(Object.keys(doc).sort()).toEqual(["checklist", "cost", "outputs", "policies", "resources", "stack"]);
  expect(doc.stack).toBe("prod");
  expect(doc.policies.violations).toEqual([]);
  const pg = doc.resources.find((r: { name: string }) => r.name === "gomeet-prod-pg");
  expect(pg).toMatchObject({
    type: "digitalocean:index/databaseCluster:DatabaseCluster",
    parent: "postgres",
    protect: true,
    props: { nodeCount: 2 },
  });
  const deployment = doc.resources.find((r: { name: string }) => r.name === "gomeet-prod-app");
  expect(deployment).toMatchObject({ parent: "app", props: { spec: { replicas: 3 } } });
});

test("--json gives each resource with an ignoreChanges option the list; the tree marks it", () => {
  const doc = JSON.parse(prodJson.stdout);
  const byType = (type: string) => doc.resources.filter((r: { type: string }) => r.type === type);
  const byName = (type: string, name: string) => byType(type).find((r: { name: string }) => r.name === name);
  // The HPA owns the replica count; DOKS auto-upgrades move the version within its prefix. In both regions.
  for (const prefix of ["gomeet-prod", "gomeet-prod-tor1"]) {
    expect(byName("kubernetes:apps/v1:Deployment", `${prefix}-app`).ignoreChanges).toEqual(["spec.replicas"]);
    expect(byName("digitalocean:index/kubernetesCluster:KubernetesCluster", `${prefix}-doks`).ignoreChanges).toEqual(["version"]);
  }
  // The failover controller is a singleton with no HPA: its count is the program's.
  expect(Object.keys(byName("kubernetes:apps/v1:Deployment", "gomeet-prod-tor1-failover-controller"))).not.toContain("ignoreChanges");
  for (const hpa of byType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler")) expect(Object.keys(hpa)).not.toContain("ignoreChanges");
  expect(prodText.stdout).toMatch(
    /^ {2}\+ kubernetes:apps\/v1:Deployment {2}gomeet-prod-app {2}\[ignoreChanges: spec\.replicas\]\n {6}replicas=3 \(at create; ignoreChanges\) {2}/m,
  );
});

test("the 'before the first pulumi up' checklist: what the program cannot create, each with the command that checks it", () => {
  const { checklist } = JSON.parse(prodJson.stdout);
  expect(checklist.map((c: { command: string }) => c.command)).toEqual([
    "doctl vpcs list --format Name,Region,IPRange",
    "doctl vpcs list --format Name,Region,IPRange",
    "doctl kubernetes options versions --format Slug --no-header | grep '^1\\.33\\.'   # expect at least one 1.33.<patch>-do.<n>",
    expect.stringMatching(/^doctl account get --format Email,EmailVerified/),
    "doctl registry get && doctl registry repository list-tags app",
    expect.stringMatching(/^kubectl -n kube-system get deploy,apiservice \| grep metrics {3}# expect nothing/),
    expect.stringMatching(/^id=\$\(doctl databases list --format ID,Name --no-header \| awk '\$2=="gomeet-prod-pg"\{print \$1\}'\) && /),
    expect.stringMatching(
      /^id=\$\(doctl databases list --format ID,Name --no-header \| awk '\$2=="gomeet-prod-tor1-valkey"\{print \$1\}'\) && /,
    ),
    expect.stringMatching(
      /^id=\$\(doctl databases list --format ID,Name --no-header \| awk '\$2=="gomeet-prod-valkey"\{print \$1\}'\) && /,
    ),
    expect.stringMatching(/^doctl compute domain get gomeet\.example && dig \+short NS gomeet\.example/),
    expect.any(String),
    expect.any(String),
  ]);
  // Both regions' VPC ranges, each once; checks that name no cluster (DOKS version, metrics-server) once.
  expect(checklist[0].check).toBe("no other VPC of the account overlaps 10.21.0.0/16 (gomeet:network.ipRange)");
  expect(checklist[1].check).toBe("no other VPC of the account overlaps 10.20.0.0/16 (gomeet:network.ipRange)");
  expect(checklist[5].check).toBe(
    'the cluster runs no metrics-server of its own that the Helm release "metrics-server" (kube-system) would collide with',
  );
  expect(checklist[8].check).toBe(
    "the Valkey cluster gomeet-prod-valkey's certificate verifies with the CA DigitalOcean returns for it, host name included",
  );
  // The CA from DigitalOcean, then a verification that fails on any certificate error, host name included.
  expect(checklist[8].command).toContain('doctl databases get-ca "$id" -o json | jq -r .certificate | base64 -d > ca.pem');
  expect(checklist[8].command).toContain(
    'openssl s_client -connect "$host:25061" -servername "$host" -verify_hostname "$host" -verify_return_error -CAfile ca.pem',
  );
  expect(checklist[3].check).toBe("every alert e-mail is verified on the DigitalOcean account: oncall@gomeet.example");
  expect(checklist[3].why).toMatch(
    /verified on that DigitalOcean account.*digitalocean\/openapi@[0-9a-f]{40}:specification\/resources\/uptime\/models\/notification\.yml/,
  );
  expect(checklist[4].check).toBe('the container registry "gomeet" exists on the account and holds app:0.1.0');
  // The DOKS version prefix is still offered, and PostgreSQL's certificate covers the private host under verify-full.
  expect(checklist[2].check).toBe("DOKS still offers a version with the prefix 1.33. (gomeet:kubernetes.versionPrefix)");
  expect(checklist[6].check).toBe(
    "the PostgreSQL cluster gomeet-prod-pg's certificate names its private host, which the app connects to under sslmode=verify-full",
  );
  expect(checklist[6].command).toContain(
    'openssl s_client -starttls postgres -connect "$host:25060" -servername "$host" -verify_hostname "$host" -verify_return_error -CAfile ca.pem',
  );
  // With a GLB: what only a real deploy shows (WebSockets through it), and the registry's region.
  expect(checklist[10].check).toBe(
    "WebSocket upgrade through the GLB works: wss://meet.gomeet.example/ws answers 101 Switching Protocols and stays open",
  );
  expect(checklist[11].check).toBe("the container registry is not in a region the stack runs in, or the image is mirrored");
  const text = prodText.stdout;
  expect(text).toContain("Before the first `pulumi up` (the program cannot create or check these; run each command):");
  expect(text).toContain("  10. the DNS zone gomeet.example is managed by DigitalOcean and delegated to its name servers");
  expect(text).toContain("     check: doctl vpcs list --format Name,Region,IPRange");
});

test("secrets print as [secret] and their placeholders or generated values never appear", () => {
  const doc = JSON.parse(prodJson.stdout);
  const secret = doc.resources.find((r: { type: string }) => r.type === "kubernetes:core/v1:Secret");
  expect(secret.props.stringData).toBe("[secret]");
  expect(doc.outputs.kubeconfig).toBe("[secret]");
  for (const out of [prodJson.stdout, prodText.stdout]) {
    expect(out).not.toContain(SECRET_PLACEHOLDER);
    expect(out).not.toContain("offline-password");
    expect(out).not.toContain("offline-random-password");
  }
});

test("the readable output is a tree grouped by component, then policies and the HA scorecard", () => {
  expect(prodText.status).toBe(0);
  const out = prodText.stdout;
  expect(out).toMatch(
    /^postgres\n  \+ digitalocean:index\/databaseCluster:DatabaseCluster  gomeet-prod-pg  \[protected\]\n      engine=pg  version=16  size=db-s-2vcpu-4gb  nodeCount=2/m,
  );
  expect(out).toMatch(
    /^kubernetes\n  \+ digitalocean:index\/kubernetesCluster:KubernetesCluster  gomeet-prod-doks  \[ignoreChanges: version\]\n      version=1\.33\.1-do\.0 \(at create; ignoreChanges\)  ha=true/m,
  );
  expect(out).toContain("Policies (gomeet-ha): 0 mandatory, 0 advisory violations");
  expect(out).toMatch(/HA scorecard\n/);
  // Two regions behind a GLB: the region is no longer the single point of failure; the failover controller is an accepted singleton.
  expect(out).toMatch(/^  region +redundant 2 DigitalOcean regions \(nyc3 primary, tor1 standby\) behind a GLB; failover automatic; RTO /m);
  expect(out).toMatch(/^No single point of failure\.$/m);
  expect(out).toMatch(/^Accepted risk, app \(gomeet-prod-tor1-failover-controller\): the region failover controller: /m);
});

test("an unknown stack exits 2 naming the file and the stacks that exist", () => {
  const r = runPreview(["--stack", "nope"]);
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^preview: unknown stack "nope": there is no Pulumi\.nope\.yaml in .* \(stacks here: .*prod, staging/);
  expect(r.stdout).toBe("");
});

test("without --stack it previews prod (the fresh-clone front door); where there is no prod, --stack is required", () => {
  const bare = runPreview(["--json"]);
  expect(bare.status).toBe(0);
  expect(JSON.parse(bare.stdout)).toEqual(JSON.parse(prodJson.stdout));

  const empty = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-no-prod-"));
  cleanups.push(() => fs.rmSync(empty, { recursive: true, force: true }));
  fs.writeFileSync(path.join(empty, "Pulumi.staging.yaml"), "config: {}\n");
  expect(runPreview(["--root", empty])).toMatchObject({
    status: 2,
    stderr: expect.stringContaining("--stack is required: there is no Pulumi.prod.yaml to default to (stacks here: staging)"),
  });
});

test("unknown flags exit 2 with the usage", () => {
  expect(runPreview(["--stack", "prod", "--jsn"])).toMatchObject({ status: 2, stderr: expect.stringContaining("usage: npm run preview") });
});

test("a bad config value exits 2 with the key named; any Pulumi.<name>.yaml works", () => {
  const bad = temporaryStack("prod", (c) => {
    c["gomeet:valkey"].evictionPolicy = "allkeysLru";
  });
  cleanups.push(bad.remove);
  const r = runPreview(["--stack", bad.stack]);
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(
    'preview: gomeet:valkey.evictionPolicy: got "allkeysLru"; expected one of "noeviction", "allkeys_lru", "allkeys_random", "volatile_lru", "volatile_random", "volatile_ttl"\n',
  );

  const copy = temporaryStack("prod", () => undefined);
  cleanups.push(copy.remove);
  const ok = runPreview(["--stack", copy.stack, "--json"]);
  expect(ok.status).toBe(0);
  expect(JSON.parse(ok.stdout).stack).toBe(copy.stack);
});
