/**
 * The nightly drift check (.github/workflows/drift.yml): its schedule and steps, its preview step run for real
 * with a stand-in `pulumi` on PATH (what it passes, how it keeps the exit code), and the job summary it writes
 * (preview/drift-report.ts) for prod in sync, prod drifted, and a preview that failed.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";
import { driftReport, driftedResources, parseUrn, type PreviewDigest } from "../../preview/drift-report";
import { TOKEN_DIR_ENV, tokenDirectory, tokenFilePath } from "../../infra/kubeconfig";
import { ROOT } from "./plan-helpers";

type Step = { name?: string; id?: string; if?: string; uses?: string; run?: string; env?: Record<string, string> };
const workflow = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/drift.yml"), "utf8")) as {
  on: Record<string, unknown>;
  permissions: Record<string, string>;
  concurrency: { group: string; "cancel-in-progress": boolean };
  env: Record<string, string>;
  jobs: { drift: { steps: Step[] } };
};
const steps = workflow.jobs.drift.steps;
const drift = steps.find((s) => s.id === "drift")!;
const summary = steps.findIndex((s) => /drift-report/.test(s.run ?? ""));
const tokenStep = steps.find((s) => /exec-credential/.test(s.run ?? ""))!;

const URN = "urn:pulumi:prod::gomeet";
const digest = (steps: PreviewDigest["steps"], extra: Partial<PreviewDigest> = {}): PreviewDigest => ({ steps, ...extra });

describe("the workflow", () => {
  test("runs every night and on demand, reads the repository only, never two at once, apart from deploys", () => {
    expect(workflow.on).toEqual({ schedule: [{ cron: expect.stringMatching(/^\d+ \d+ \* \* \*$/) }], workflow_dispatch: {} });
    expect(workflow.permissions).toEqual({ contents: "read" });
    expect(workflow.concurrency).toEqual({ group: "drift-prod", "cancel-in-progress": false });
    const deploy = parse(fs.readFileSync(path.join(ROOT, ".github/workflows/deploy.yml"), "utf8")) as { concurrency: { group: string } };
    expect(deploy.concurrency.group).not.toBe(workflow.concurrency.group);
  });

  test("previews prod refreshed, expecting no changes, with the policy pack and production defaults", () => {
    expect(drift.run).toMatch(
      /pulumi preview --stack "\$PULUMI_STACK" --refresh --expect-no-changes --policy-pack policies --non-interactive --json/,
    );
    expect(drift.run).not.toContain("--policy-pack-config");
    expect(workflow.env.PULUMI_STACK).toMatch(/^\$\{\{ vars\.[A-Z_]+ \}\}\/gomeet\/prod$/);
    expect(drift.env).toEqual({
      PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
      DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}",
    });
  });

  test("writes the summary even when the preview failed, then fails the job on its exit code", () => {
    const index = steps.indexOf(drift);
    expect(summary).toBeGreaterThan(index);
    expect(steps[summary]!.if).toBe("always() && steps.drift.outputs.exit != ''");
    expect(steps[summary]!.run).toBe(
      'npm run --silent drift-report -- --json drift.json --stderr drift.err --exit "$EXIT" >> "$GITHUB_STEP_SUMMARY"',
    );
    expect(steps[summary]!.env).toEqual({ EXIT: "${{ steps.drift.outputs.exit }}" });
    const fail = steps.findIndex((s) => s.if === "steps.drift.outputs.exit != '0'");
    expect(fail).toBeGreaterThan(summary);
    expect(steps[fail]!.run).toBe("exit 1");
  });

  describe("the cluster token the refresh needs (the provider's saved kubeconfig reads it from a file)", () => {
    test("is written where the program writes it, for prod's cluster, by a doctl logged in before, before the preview", () => {
      expect(tokenStep.env).toEqual({ CLUSTER: "gomeet-prod-doks", TOKEN_FILE: expect.any(String) });
      // What infra/kubernetes.ts computes on a runner: `${prefix}-doks`, the default directory (nothing sets it).
      expect(tokenStep.env!.TOKEN_FILE).toBe(tokenFilePath(tokenDirectory({}, "linux"), "gomeet-prod-doks"));
      expect(tokenStep.env!.TOKEN_FILE).toBe("/tmp/gomeet-kube/gomeet-prod-doks.token");
      expect(JSON.stringify(workflow)).not.toContain(TOKEN_DIR_ENV);
      const doctl = steps.findIndex((s) => s.uses?.startsWith("digitalocean/action-doctl@"));
      expect(doctl).toBeGreaterThanOrEqual(0);
      expect(steps[doctl] as Step & { with?: Record<string, string> }).toMatchObject({
        with: { token: "${{ secrets.DIGITALOCEAN_TOKEN }}" },
      });
      expect(steps.indexOf(tokenStep)).toBeGreaterThan(doctl);
      expect(steps.indexOf(tokenStep)).toBeLessThan(steps.indexOf(drift));
    });

    describe("run with a stand-in doctl", () => {
      let dir: string;
      beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-drift-token-"));
        fs.mkdirSync(path.join(dir, "bin"));
      });
      afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

      function runTokenStep(credential: string) {
        const fake = [
          "#!/bin/sh",
          `printf '%s\\n' "$*" >> "${dir}/doctl-calls"`,
          'case "$*" in',
          '  "kubernetes cluster get gomeet-prod-doks --format ID --no-header") echo 0f1e2d3c-id ;;',
          `  "kubernetes cluster kubeconfig exec-credential --version=v1beta1 0f1e2d3c-id") echo '${credential}' ;;`,
          '  *) echo "unexpected: $*" >&2; exit 3 ;;',
          "esac",
        ];
        fs.writeFileSync(path.join(dir, "bin", "doctl"), `${fake.join("\n")}\n`, { mode: 0o755 });
        // The step's own TOKEN_FILE, moved under the test's directory (the test above pins the real one).
        const file = path.join(dir, "gomeet-kube", path.basename(tokenStep.env!.TOKEN_FILE!));
        const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", tokenStep.run!], {
          cwd: dir,
          encoding: "utf8",
          env: { PATH: `${dir}/bin:${process.env.PATH}`, CLUSTER: tokenStep.env!.CLUSTER!, TOKEN_FILE: file },
        });
        return { ...r, file };
      }

      test("writes the token alone, mode 0600 in a 0700 directory, and masks it in the log", () => {
        const r = runTokenStep('{"kind":"ExecCredential","status":{"token":"dop_v1_fresh"}}');
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        expect(fs.readFileSync(r.file, "utf8")).toBe("dop_v1_fresh");
        expect(fs.statSync(r.file).mode & 0o777).toBe(0o600);
        expect(fs.statSync(path.dirname(r.file)).mode & 0o777).toBe(0o700);
        expect(r.stdout).toBe("::add-mask::dop_v1_fresh\n");
        expect(fs.readdirSync(path.dirname(r.file))).toEqual([path.basename(r.file)]);
      });

      test("no token from doctl: the step fails and writes nothing", () => {
        const r = runTokenStep('{"kind":"ExecCredential","status":{}}');
        expect(r.status).not.toBe(0);
        expect(r.stderr).toContain("doctl returned no token for cluster gomeet-prod-doks");
        expect(fs.existsSync(r.file)).toBe(false);
      });
    });
  });

  describe("the preview step, run with a stand-in pulumi", () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-drift-"));
      fs.mkdirSync(path.join(dir, "bin"));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    function runStep(exitCode: number) {
      const fake = [
        "#!/bin/sh",
        `printf '%s\\n' "$*" > "${dir}/args"`,
        `echo '{"steps": []}'`,
        "echo 'error: no changes were expected' >&2",
        `exit ${exitCode}`,
      ];
      fs.writeFileSync(path.join(dir, "bin", "pulumi"), `${fake.join("\n")}\n`, { mode: 0o755 });
      const output = path.join(dir, "github_output");
      // As GitHub runs a `run:` step on Linux: bash --noprofile --norc -eo pipefail.
      const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", drift.run!], {
        cwd: dir,
        encoding: "utf8",
        env: { PATH: `${dir}/bin:${process.env.PATH}`, GITHUB_OUTPUT: output, PULUMI_STACK: "acme/gomeet/prod" },
      });
      return { status: r.status, output: fs.readFileSync(output, "utf8"), args: fs.readFileSync(path.join(dir, "args"), "utf8").trim() };
    }

    test("drift (pulumi exits non-zero): the step itself succeeds and hands the exit code on, JSON and stderr kept", () => {
      const r = runStep(255);
      expect(r).toMatchObject({ status: 0, output: "exit=255\n" });
      expect(r.args).toBe("preview --stack acme/gomeet/prod --refresh --expect-no-changes --policy-pack policies --non-interactive --json");
      expect(fs.readFileSync(path.join(dir, "drift.json"), "utf8")).toBe('{"steps": []}\n');
      expect(fs.readFileSync(path.join(dir, "drift.err"), "utf8")).toContain("no changes were expected");
    });

    test("no drift: exit=0", () => {
      expect(runStep(0)).toMatchObject({ status: 0, output: "exit=0\n" });
    });
  });
});

describe("the summary (preview/drift-report.ts)", () => {
  test("prod in sync: says so", () => {
    const json = JSON.stringify(
      digest([{ op: "same", urn: `${URN}::kubernetes:apps/v1:Deployment::gomeet-prod-app` }], { changeSummary: { same: 45 } }),
    );
    expect(driftReport("prod", json, "", 0)).toContain("**No drift.** Prod matches main (45 resource(s) unchanged).");
  });

  test("prod drifted: names each resource, what the preview would do and which properties differ, never values", () => {
    const doc = digest(
      [
        { op: "refresh", urn: `${URN}::digitalocean:index/vpc:Vpc::gomeet-prod-vpc` },
        { op: "same", urn: `${URN}::digitalocean:index/vpc:Vpc::gomeet-prod-vpc` },
        {
          op: "update",
          urn: `${URN}::gomeet:index:App$kubernetes:apps/v1:Deployment::gomeet-prod-app`,
          diffReasons: ["spec"],
          detailedDiff: { "spec.replicas": { kind: "update" }, "spec.template.spec.containers[0].image": { kind: "update" } },
        },
        {
          op: "replace",
          urn: `${URN}::gomeet:index:Valkey$digitalocean:index/databaseCluster:DatabaseCluster::gomeet-prod-valkey`,
          replaceReasons: ["engine"],
          detailedDiff: null,
        },
        {
          op: "create-replacement",
          urn: `${URN}::gomeet:index:Valkey$digitalocean:index/databaseCluster:DatabaseCluster::gomeet-prod-valkey`,
        },
        {
          op: "delete-replaced",
          urn: `${URN}::gomeet:index:Valkey$digitalocean:index/databaseCluster:DatabaseCluster::gomeet-prod-valkey`,
        },
        {
          op: "create",
          urn: `${URN}::gomeet:index:App$kubernetes:core/v1:Secret::gomeet-prod-secrets`,
          newState: { inputs: { stringData: "hunter2" } },
        },
      ],
      {
        diagnostics: [
          { severity: "warning", urn: `${URN}::kubernetes:core/v1:Secret::gomeet-prod-secrets`, message: "\u001b[31mrecreated\u001b[0m\n" },
        ],
      },
    );
    expect(driftedResources(doc)).toEqual([
      {
        op: "update",
        type: "kubernetes:apps/v1:Deployment",
        name: "gomeet-prod-app",
        differs: ["spec.replicas (update)", "spec.template.spec.containers[0].image (update)"],
      },
      { op: "replace", type: "digitalocean:index/databaseCluster:DatabaseCluster", name: "gomeet-prod-valkey", differs: ["engine"] },
      { op: "create", type: "kubernetes:core/v1:Secret", name: "gomeet-prod-secrets", differs: [] },
    ]);
    const report = driftReport("prod", JSON.stringify(doc), "error: no changes were expected but changes were proposed", 255);
    expect(report).toContain("**Drift: 3 resource(s) differ from main.**");
    expect(report).toContain(
      "| update | gomeet-prod-app | kubernetes:apps/v1:Deployment | spec.replicas (update), spec.template.spec.containers[0].image (update) |",
    );
    expect(report).toContain("| replace | gomeet-prod-valkey | digitalocean:index/databaseCluster:DatabaseCluster | engine |");
    expect(report).toContain("| create | gomeet-prod-secrets | kubernetes:core/v1:Secret | (no detail) |");
    expect(report).toContain("- warning (gomeet-prod-secrets): recreated");
    expect(report).toContain("no changes were expected but changes were proposed");
    expect(report).not.toContain("hunter2");
  });

  test("a preview that failed without JSON (bad credentials, a mandatory policy): says it could not tell, shows stderr", () => {
    const report = driftReport("prod", undefined, "error: failed to verify credentials\n", 255);
    expect(report).toContain("**The preview failed (exit 255) before it could tell whether prod drifted.**");
    expect(report).toContain("error: failed to verify credentials");
    expect(driftReport("prod", "{not json", "boom", 1)).toContain("The preview's JSON could not be read");
  });

  test("bad input: a malformed URN or exit code is named", () => {
    expect(() => parseUrn("gomeet-prod-app")).toThrow('not a Pulumi URN: "gomeet-prod-app"');
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
    const r = spawnSync(tsx, [path.join(ROOT, "scripts", "drift-report.ts"), "--json", "x", "--stderr", "y", "--exit", "boom"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('drift-report: --exit must be the preview\'s exit code, got "boom"\n');
  });
});
