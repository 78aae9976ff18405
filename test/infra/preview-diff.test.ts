/**
 * `npm run preview -- --diff <ref>` and `--against-stack` end to end, on real changes committed in a
 * temporary git repository holding a copy of the infra program and stack files.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ROOT, runPreview, temporaryStack } from "./plan-helpers";

let repo: string;
const git = (...args: string[]) => execFileSync("git", ["-C", repo, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const edit = (file: string, from: string | RegExp, to: string) => {
  const p = path.join(repo, file);
  const text = fs.readFileSync(p, "utf8");
  const next = text.replace(from, to);
  if (next === text) throw new Error(`edit of ${file} changed nothing`);
  fs.writeFileSync(p, next);
};
const diff = (...args: string[]) => {
  const r = runPreview(["--root", repo, "--stack", "prod", ...args]);
  return { ...r, doc: r.status === 0 || r.status === 1 ? JSON.parse(r.stdout) : undefined };
};

beforeAll(() => {
  repo = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-diff-"));
  for (const f of ["Pulumi.yaml", "Pulumi.prod.yaml", "Pulumi.staging.yaml", "package.json", "package-lock.json"]) {
    fs.copyFileSync(path.join(ROOT, f), path.join(repo, f));
  }
  fs.cpSync(path.join(ROOT, "infra"), path.join(repo, "infra"), { recursive: true });
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(repo, "node_modules"), "dir");
  fs.writeFileSync(path.join(repo, ".gitignore"), "node_modules\n");
  git("init", "-q", "-b", "main");
  git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "add", "-A");
  git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "base");
});
afterAll(() => fs.rmSync(repo, { recursive: true, force: true }));
afterEach(() => git("checkout", "-q", "--", "."));

test("identical revisions: no changes, exit 0, worktree removed", () => {
  const r = diff("--diff", "HEAD", "--json");
  expect(r.status).toBe(0);
  expect(r.doc).toMatchObject({
    base: { label: "HEAD", stack: "prod" },
    head: { label: "working tree" },
    changes: [],
    policies: { introduced: [], fixed: [] },
  });
  expect(r.doc.base.commit).toMatch(/^[0-9a-f]{40}$/);
  expect(git("worktree", "list").trim().split("\n")).toHaveLength(1);
});

test("a changed Secret value rolls the pods: the Deployment's pod template changes (its checksum), nothing is replaced", () => {
  edit("Pulumi.prod.yaml", "url: wss://livekit-nyc.gomeet.example", "url: wss://livekit-nyc2.gomeet.example");
  const r = diff("--diff", "HEAD", "--json");
  expect(r.status).toBe(0);
  // Both regions' apps use the LiveKit deployments: both Deployments roll.
  expect(r.doc.changes).toEqual(
    ["gomeet-prod-tor1-app", "gomeet-prod-app"].map((name) => ({
      op: "update",
      type: "kubernetes:apps/v1:Deployment",
      name,
      diffs: [
        {
          path: 'spec.template.metadata.annotations["checksum/secret"]',
          old: expect.stringMatching(/^[0-9a-f]{64}$/),
          new: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
      ],
      dataLossRisk: false,
    })),
  );
  expect(r.doc.changes[0].diffs[0].old).not.toBe(r.doc.changes[0].diffs[0].new);
  expect(r.stdout).not.toContain("livekit-nyc2"); // the new value itself stays secret
});

test("scaling the node pool is an in-place update of one property", () => {
  edit("Pulumi.prod.yaml", "minNodes: 3", "minNodes: 4");
  const r = diff("--diff", "HEAD", "--json");
  // gomeet:kubernetes sets both regions' pools (the standby is warm: the same floors).
  expect(r.doc.changes).toEqual(
    ["gomeet-prod-tor1-doks", "gomeet-prod-doks"].map((name) => ({
      op: "update",
      type: "digitalocean:index/kubernetesCluster:KubernetesCluster",
      name,
      diffs: [{ path: "nodePool.minNodes", old: 3, new: 4 }],
      dataLossRisk: false,
    })),
  );
});

test("changing the region replaces the VPC, the cluster and both databases, flagged as data loss", () => {
  edit("Pulumi.prod.yaml", "gomeet:region: nyc3", "gomeet:region: ams3");
  const r = diff("--diff", "HEAD", "--json");
  const byName = Object.fromEntries(r.doc.changes.map((c: { name: string }) => [c.name, c]));
  for (const name of ["gomeet-prod-pg", "gomeet-prod-valkey"]) {
    // A database cluster's region is not ForceNew (DigitalOcean migrates it), but its VPC is replaced.
    expect(byName[name]).toMatchObject({ op: "replace", dataLossRisk: true, protected: true });
    expect(byName[name].diffs).toContainEqual({ path: "region", old: "nyc3", new: "ams3" });
    expect(byName[name].diffs).toContainEqual({
      path: "privateNetworkUuid",
      old: "gomeet-prod-vpc-id",
      unknown: "gomeet-prod-vpc is replaced",
      replaces: true,
    });
  }
  for (const name of ["gomeet-prod-vpc", "gomeet-prod-doks", "gomeet-prod-pg-replica-1"]) {
    expect(byName[name]).toMatchObject({ op: "replace", dataLossRisk: false });
    expect(byName[name].diffs).toContainEqual({ path: "region", old: "nyc3", new: "ams3", replaces: true });
  }
  const text = runPreview(["--root", repo, "--stack", "prod", "--diff", "HEAD"]).stdout;
  expect(text).toMatch(
    /^  \+- digitalocean:index\/databaseCluster:DatabaseCluster  gomeet-prod-pg  \[replace\] \[DATA LOSS RISK\] \[protected/m,
  );
  expect(text).toContain('        region: "nyc3" → "ams3"  (forces replacement)');
  expect(text).toContain(
    '        privateNetworkUuid: "gomeet-prod-vpc-id" → (known after apply: gomeet-prod-vpc is replaced)  (forces replacement)',
  );
  expect(text).toMatch(
    /WARNING: 2 change\(s\) would destroy a database cluster and its data: gomeet-prod-pg \(replace\), gomeet-prod-valkey \(replace\)\./,
  );
});

test("adding an alert in code is a create", () => {
  edit(
    "infra/alerting.ts",
    "export const NODE_ALERTS: Threshold[] = [",
    'export const NODE_ALERTS: Threshold[] = [\n  { key: "node-load", type: "v1/insights/droplet/load_5", compare: "GreaterThan", value: 4, description: "load" },',
  );
  const r = diff("--diff", "HEAD", "--json");
  // One per region: both cells take the node alerts.
  expect(r.doc.changes).toEqual([
    {
      op: "create",
      type: "digitalocean:index/monitorAlert:MonitorAlert",
      name: "gomeet-prod-tor1-node-load",
      diffs: [],
      dataLossRisk: false,
    },
    { op: "create", type: "digitalocean:index/monitorAlert:MonitorAlert", name: "gomeet-prod-node-load", diffs: [], dataLossRisk: false },
  ]);
});

test("renaming the Valkey cluster deletes the old one (data loss) and creates a new one", () => {
  edit("infra/valkey.ts", "name: `${args.prefix}-valkey`", "name: `${args.prefix}-cache`");
  const ops = diff("--diff", "HEAD", "--json").doc.changes.map((c: any) => [c.op, c.name, c.dataLossRisk]);
  expect(ops).toContainEqual(["create", "gomeet-prod-cache", false]);
  expect(ops).toContainEqual(["delete", "gomeet-prod-valkey", true]);
  expect(ops).toContainEqual(["delete", "gomeet-prod-valkey-firewall", false]);
});

test("a change that brings back a single point of failure is called out as an introduced violation, exit 1", () => {
  edit("Pulumi.prod.yaml", /nodeCount: 2\n    readReplicas: 1/, "nodeCount: 1\n    readReplicas: 1");
  const r = diff("--diff", "HEAD", "--json");
  expect(r.status).toBe(1);
  expect(r.doc.policies.fixed).toEqual([]);
  expect(r.doc.policies.introduced).toContainEqual(expect.objectContaining({ level: "mandatory", resource: "gomeet-prod-pg" }));
});

test("--against-stack compares two stacks of the same revision", () => {
  const r = diff("--against-stack", "staging", "--json");
  expect(r.doc.base).toEqual({ label: "stack staging", stack: "staging" });
  expect(r.doc.head).toEqual({ label: "stack prod", stack: "prod" });
  // Names carry the stack (gomeet-prod-pg, gomeet-staging-pg): they are matched as gomeet-{stack}-pg.
  const byName = Object.fromEntries(r.doc.changes.map((c: any) => [c.name, c]));
  expect(byName["gomeet-{stack}-pg-replica-1"].op).toBe("create"); // staging has no read replica
  // The stacks' VPC ranges differ (one account), so "turning staging into prod" would replace the VPC and the clusters in it.
  expect(byName["gomeet-{stack}-vpc"]).toMatchObject({
    op: "replace",
    diffs: [{ path: "ipRange", old: "10.30.0.0/16", new: "10.20.0.0/16", replaces: true }],
  });
  expect(byName["gomeet-{stack}-pg"]).toMatchObject({ op: "replace", dataLossRisk: true });
  expect(byName["gomeet-{stack}-pg"].diffs).toContainEqual({ path: "nodeCount", old: 1, new: 2 });
  expect(r.doc.changes.filter((c: any) => c.op === "delete")).toEqual([]);
  expect(r.doc.policies.fixed.length).toBeGreaterThan(0); // staging's advisory single points of failure
});

test("errors exit 2 with a clear message: unknown revision, no stack file there, program failing there", () => {
  expect(diff("--diff", "no-such-ref")).toMatchObject({
    status: 2,
    stderr: expect.stringMatching(/preview: unknown revision "no-such-ref": it names no commit/),
  });

  fs.copyFileSync(path.join(repo, "Pulumi.prod.yaml"), path.join(repo, "Pulumi.extra.yaml"));
  const noFile = runPreview(["--root", repo, "--stack", "extra", "--diff", "HEAD"]);
  fs.rmSync(path.join(repo, "Pulumi.extra.yaml"));
  expect(noFile.status).toBe(2);
  expect(noFile.stderr).toMatch(/preview: revision HEAD \([0-9a-f]{12}\) has no Pulumi\.extra\.yaml/);

  edit("infra/index.ts", "const config = loadConfig();", 'throw new Error("broken on purpose");\nconst config = loadConfig();');
  git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qam", "broken");
  git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "revert", "--no-edit", "HEAD");
  const broken = diff("--diff", "HEAD~1");
  expect(broken.status).toBe(2);
  expect(broken.stderr).toMatch(/preview: the program fails at revision HEAD~1 \([0-9a-f]{12}\): .*broken on purpose/);
});

describe("--against-stack with a stack file that differs in one value", () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));
  const against = (edit: (c: Record<string, any>) => void) => {
    const variant = temporaryStack("prod", edit);
    cleanups.push(variant.remove);
    const r = runPreview(["--stack", variant.stack, "--against-stack", "prod", "--json"]);
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    return { doc, byName: Object.fromEntries(doc.changes.map((c: { name: string }) => [c.name, c])) as Record<string, any> };
  };

  test("poolSize: the pool is replaced (every pool field is ForceNew), deleted first because its name is fixed", () => {
    const { doc, byName } = against((c) => (c["gomeet:postgres"].poolSize = 30));
    expect(byName["gomeet-{stack}-pg-pool"]).toEqual({
      op: "replace",
      type: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
      name: "gomeet-{stack}-pg-pool",
      diffs: [{ path: "size", old: 22, new: 30, replaces: true }],
      dataLossRisk: false,
      deleteBeforeReplace: true,
    });
    // The app's Secret holds the pool's URL: updated (rolling the pods), not replaced.
    expect(byName["gomeet-{stack}-secrets"]).toMatchObject({ op: "update" });
    expect(doc.changes.filter((c: { op: string }) => c.op === "replace").map((c: { name: string }) => c.name)).toEqual([
      "gomeet-{stack}-pg-pool",
    ]);
  });

  test("network.ipRange: the VPC, both database clusters (data loss) and the Kubernetes cluster are replaced, and with it every Kubernetes object", () => {
    const { doc, byName } = against((c) => (c["gomeet:network"].ipRange = "10.40.0.0/16"));
    expect(byName["gomeet-{stack}-vpc"]).toMatchObject({
      op: "replace",
      diffs: [{ path: "ipRange", old: "10.20.0.0/16", new: "10.40.0.0/16", replaces: true }],
    });
    expect(byName["gomeet-{stack}-doks"]).toMatchObject({ op: "replace", dataLossRisk: false });
    for (const name of ["gomeet-{stack}-pg", "gomeet-{stack}-valkey"])
      expect(byName[name]).toMatchObject({ op: "replace", dataLossRisk: true, protected: true });
    expect(byName["gomeet-{stack}-k8s"]).toMatchObject({ op: "replace", type: "pulumi:providers:kubernetes" });
    // The primary region's Kubernetes objects go with its cluster. The standby region's cluster stays, and nothing in it
    // is replaced: what names the primary's new database cluster is updated (the failover controller's topology, the
    // app's Secret and the database CA it reads through the cross-region node), and the app rolls for the new Secret.
    const kubernetes = doc.changes.filter((c: { type: string }) => c.type.startsWith("kubernetes:"));
    const primary = kubernetes.filter((c: { name: string }) => !c.name.startsWith("gomeet-{stack}-tor1-"));
    expect(primary.length).toBeGreaterThanOrEqual(6);
    for (const c of primary) expect({ name: c.name, op: c.op }).toEqual({ name: c.name, op: "replace" });
    const standby = kubernetes.filter((c: { name: string }) => c.name.startsWith("gomeet-{stack}-tor1-"));
    expect(standby.map((c: { name: string; op: string }) => [c.name, c.op]).sort()).toEqual(
      ["app", "database-ca", "failover-secrets", "secrets"].map((n) => [`gomeet-{stack}-tor1-${n}`, "update"]),
    );
    const text = runPreview(["--stack", doc.head.stack, "--against-stack", "prod"]).stdout;
    expect(text).toMatch(
      /WARNING: 2 change\(s\) would destroy a database cluster and its data: gomeet-\{stack\}-pg \(replace\), gomeet-\{stack\}-valkey \(replace\)\./,
    );
  });
});
