/**
 * One install for the tests: .ci/run and every workflow job that runs `npm test` call .ci/install-test-deps, then
 * `npm ci`, then `npm test`, and nothing else installs system packages. The script installs every package the
 * harness names for a missing binary (harness/binaries.ts), and the pg_auto_failover package for the detected
 * PostgreSQL major rather than a fixed one.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { DEBIAN_PACKAGE } from "../../harness/binaries";

const ROOT = path.join(__dirname, "..", "..");
const INSTALL = ".ci/install-test-deps";
const script = fs.readFileSync(path.join(ROOT, INSTALL), "utf8");

interface Step {
  name?: string;
  run?: string;
  uses?: string;
}
type Workflow = { jobs: Record<string, { steps: Step[] }> };

/** The commands of a shell script or a run: block, one per line, without comments, blank lines and `set`/`cd`. */
function commands(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.replace(/(^|\s)#.*$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("#!") && !/^(set|cd)\b/.test(line));
}

const workflowFiles = fs.readdirSync(path.join(ROOT, ".github", "workflows")).filter((f) => /\.ya?ml$/.test(f));
const workflows = workflowFiles.map((file) => ({
  file,
  workflow: parse(fs.readFileSync(path.join(ROOT, ".github", "workflows", file), "utf8")) as Workflow,
}));

describe(".ci/run and the workflows run the tests the same way", () => {
  it(".ci/run installs with the script, then npm ci, then npm test", () => {
    expect(commands(fs.readFileSync(path.join(ROOT, ".ci/run"), "utf8"))).toEqual([INSTALL, "npm ci --no-audit --no-fund", "npm test"]);
  });

  it("at least the pull-request workflow runs the tests", () => {
    const testing = workflows.filter(({ workflow }) =>
      Object.values(workflow.jobs).some((job) => job.steps.some((s) => commands(s.run ?? "").includes("npm test"))),
    );
    expect(testing.map((w) => w.file)).toContain("pull-request.yml");
  });

  it.each(workflows.map((w) => [w.file, w.workflow] as const))(
    "%s: a job that runs npm test first runs the install script and npm ci",
    (_, workflow) => {
      for (const job of Object.values(workflow.jobs)) {
        const runs = job.steps.flatMap((s) => commands(s.run ?? ""));
        const test = runs.indexOf("npm test");
        if (test === -1) continue;
        const install = runs.indexOf(INSTALL);
        const ci = runs.findIndex((c) => /^npm ci\b/.test(c));
        expect({ install: install !== -1 && install < ci, ci: ci !== -1 && ci < test }).toEqual({ install: true, ci: true });
      }
    },
  );

  it.each(workflows.map((w) => [w.file, w.workflow] as const))(
    "%s: installs no system package except through the script",
    (_, workflow) => {
      const direct = Object.values(workflow.jobs)
        .flatMap((job) => job.steps.flatMap((s) => commands(s.run ?? "")))
        .filter((c) => /\b(apt-get|apt|dpkg|snap)\b/.test(c));
      expect(direct).toEqual([]);
    },
  );
});

describe(".ci/install-test-deps", () => {
  it("is an executable bash script that parses", () => {
    expect(fs.statSync(path.join(ROOT, INSTALL)).mode & 0o111).toBe(0o111);
    expect(spawnSync("bash", ["-n", path.join(ROOT, INSTALL)], { encoding: "utf8" }).stderr).toBe("");
  });

  it("installs every package the harness names for a missing binary", () => {
    const fixed = [...new Set(Object.values(DEBIAN_PACKAGE))].filter((pkg) => !pkg.includes("<major>"));
    expect(fixed.sort()).toEqual(["haproxy", "nginx-light", "pgbouncer", "postgresql", "prometheus", "redis-server"]);
    for (const pkg of fixed) expect([pkg, script.includes(`missing+=(${pkg})`)]).toEqual([pkg, true]);
  });

  it("derives pg_auto_failover's package from the PostgreSQL major, never a fixed one", () => {
    expect(DEBIAN_PACKAGE.pg_autoctl).toBe("postgresql-<major>-auto-failover");
    expect(script).toMatch(/postgresql-\$major-auto-failover/);
    expect(script).not.toMatch(/postgresql-\d+-auto-failover/);
  });

  it("uses sudo when not root, and forbids service starts while it installs", () => {
    expect(script).toMatch(/if \[ "\$\(id -u\)" -ne 0 \]; then SUDO=\(sudo/);
    expect(script).toMatch(/printf '#!\/bin\/sh\\nexit 101\\n' \| "\$\{SUDO\[@\]\}" tee "\$guard"/);
    expect(script).toMatch(/trap remove_guard EXIT/);
  });
});
