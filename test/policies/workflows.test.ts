/**
 * The workflows cannot run here (no GitHub runner, no Pulumi Cloud): this parses them and checks the
 * steps and inputs that make pull requests run the policy pack and deploys go through it.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse } from "yaml";

interface Step {
  name?: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group?: string; "cancel-in-progress"?: boolean };
  env?: Record<string, string>;
  jobs: Record<string, { steps: Step[]; env?: Record<string, string>; permissions?: Record<string, string> }>;
}

const WORKFLOWS = path.join(__dirname, "..", "..", ".github", "workflows");
const load = (file: string) => parse(fs.readFileSync(path.join(WORKFLOWS, file), "utf8")) as Workflow;

/** Every step of every job, in order, with the env it sees (workflow, then job, then step). */
function stepsOf(workflow: Workflow): (Step & { index: number; envSeen: Record<string, string> })[] {
  return Object.values(workflow.jobs).flatMap((job) =>
    job.steps.map((step, index) => ({ ...step, index, envSeen: { ...workflow.env, ...job.env, ...step.env } })),
  );
}

/** Replaces `${{ env.X }}` with the value X has where the step runs. */
function resolveEnv(value: unknown, env: Record<string, string>): string {
  return String(value).replace(/\$\{\{\s*env\.(\w+)\s*\}\}/g, (_, name: string) => env[name] ?? `<unset ${name}>`);
}

function findStep(steps: ReturnType<typeof stepsOf>, predicate: (s: Step) => boolean, what: string) {
  const step = steps.find(predicate);
  if (!step) throw new Error(`no step ${what}`);
  return step;
}

const runs = (command: RegExp) => (s: Step) => typeof s.run === "string" && command.test(s.run);
const uses = (action: string) => (s: Step) => typeof s.uses === "string" && s.uses.startsWith(`${action}@`);
const majorOf = (s: Step) => Number(/@v(\d+)$/.exec(s.uses ?? "")?.[1]);
const PROD_STACK = /^\$\{\{ vars\.[A-Z_]+ \}\}\/gomeet\/prod$/;

describe.each(["pull-request.yml", "deploy.yml", "drift.yml"])("%s", (file) => {
  it("pins every action to a released major version", () => {
    for (const step of stepsOf(load(file)).filter((s) => s.uses)) {
      expect([step.uses, /@v\d+$/.test(step.uses!)]).toEqual([step.uses, true]);
    }
  });

  it("sets up Node 20 with the npm cache and installs with npm ci", () => {
    const steps = stepsOf(load(file));
    findStep(steps, uses("actions/checkout"), "checking out");
    const node = findStep(steps, uses("actions/setup-node"), "setting up node");
    expect(node.with).toEqual(expect.objectContaining({ "node-version": 22, cache: "npm" }));
    expect(findStep(steps, runs(/^npm ci$/), "npm ci").index).toBeGreaterThan(node.index);
  });

  it("runs the offline policy verdicts for prod before touching the cloud", () => {
    const steps = stepsOf(load(file));
    const offline = findStep(steps, runs(/^npm run preview -- --stack prod$/), "running the offline preview");
    const cloud = findStep(
      steps,
      (s) => (uses("pulumi/actions")(s) && s.with?.command !== undefined) || runs(/^pulumi /m)(s),
      "running pulumi",
    );
    expect(offline.index).toBeLessThan(cloud.index);
  });

  it("points prod's gomeet:app.image at the image `npm run app-image` names for this commit, before pulumi runs", () => {
    const steps = stepsOf(load(file));
    const image = findStep(
      steps,
      runs(/^ref=\$\(npm run --silent app-image\)\necho "ref=\$ref" >> "\$GITHUB_OUTPUT"\n$/),
      "naming the image",
    );
    expect(image.id).toBe("image");
    expect(image.index).toBeGreaterThan(findStep(steps, runs(/^npm ci$/), "npm ci").index);
    const install = findStep(steps, (s) => uses("pulumi/actions")(s) && s.with?.command === undefined, "installing the Pulumi CLI");
    const setImage = findStep(
      steps,
      runs(/^pulumi config set --path 'gomeet:app\.image' "\$IMAGE" --stack "\$PULUMI_STACK"$/),
      "setting the image",
    );
    expect(setImage.envSeen.IMAGE).toBe("${{ steps.image.outputs.ref }}");
    expect(setImage.envSeen.PULUMI_STACK).toMatch(PROD_STACK);
    expect(setImage.envSeen.PULUMI_ACCESS_TOKEN).toBe("${{ secrets.PULUMI_ACCESS_TOKEN }}");
    expect(image.index).toBeLessThan(setImage.index);
    expect(install.index).toBeLessThan(setImage.index);
    const pulumi = findStep(
      steps,
      (s) => (uses("pulumi/actions")(s) && s.with?.command !== undefined) || runs(/^\s*pulumi preview/m)(s),
      "pulumi",
    );
    expect(setImage.index).toBeLessThan(pulumi.index);
    // Skipped together or run together: a preview never runs with the stack file's own tag.
    expect(setImage.if).toBe(pulumi.if);
    expect(image.if).toBe(pulumi.if);
  });
});

describe.each(["pull-request.yml", "deploy.yml", "drift.yml"])("%s: the image step, run with a stand-in npm", (file) => {
  const step = stepsOf(load(file)).find((s) => s.id === "image")!;
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-image-step-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs the step as GitHub runs `run:` on Linux, with `npm` printing `stdout` and exiting `code`. */
  function run(stdout: string, code: number) {
    fs.writeFileSync(path.join(dir, "npm"), `#!/bin/sh\n[ "$*" = "run --silent app-image" ] || exit 99\necho '${stdout}'\nexit ${code}\n`, {
      mode: 0o755,
    });
    const output = path.join(dir, "github_output");
    fs.writeFileSync(output, "");
    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", step.run!], {
      encoding: "utf8",
      env: { PATH: `${dir}:${process.env.PATH}`, GITHUB_OUTPUT: output },
    });
    return { status: r.status, output: fs.readFileSync(output, "utf8") };
  }

  it("hands the image on as steps.image.outputs.ref", () => {
    expect(run("registry.digitalocean.com/gomeet/app:src-0123456789abcdef", 0)).toEqual({
      status: 0,
      output: "ref=registry.digitalocean.com/gomeet/app:src-0123456789abcdef\n",
    });
  });

  it("fails, with no ref, when app-image fails (pulumi never runs with an empty image)", () => {
    expect(run("", 2)).toEqual({ status: 2, output: "" });
  });
});

describe("pull-request.yml", () => {
  const workflow = load("pull-request.yml");
  const steps = stepsOf(workflow);

  it("runs on pull requests with permission to comment and read-only contents", () => {
    expect(workflow.on).toHaveProperty("pull_request");
    expect(workflow.permissions).toEqual({ contents: "read", "pull-requests": "write" });
  });

  it("tests before it previews", () => {
    const test = findStep(steps, runs(/^npm test$/), "npm test");
    expect(test.index).toBeGreaterThan(findStep(steps, runs(/^npm ci$/), "npm ci").index);
    expect(test.index).toBeLessThan(findStep(steps, runs(/npm run preview/), "offline preview").index);
  });

  it("previews prod with pulumi/actions, the policy pack, and a PR comment", () => {
    const pulumi = findStep(steps, (s) => uses("pulumi/actions")(s) && s.with?.command === "preview", "pulumi preview");
    expect(majorOf(pulumi)).toBeGreaterThanOrEqual(6);
    expect(resolveEnv(pulumi.with!["stack-name"], pulumi.envSeen)).toMatch(PROD_STACK);
    expect(pulumi.with).toEqual(
      expect.objectContaining({ policyPacks: "policies", "comment-on-pr": true, "github-token": "${{ secrets.GITHUB_TOKEN }}" }),
    );
    expect(pulumi.envSeen).toEqual(
      expect.objectContaining({
        PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}",
      }),
    );
  });

  it("never relaxes prod with another stack's policy config", () => {
    for (const step of steps.filter(uses("pulumi/actions"))) expect(step.with?.policyPackConfigs).toBeUndefined();
  });
});

describe("deploy.yml", () => {
  const workflow = load("deploy.yml");
  const steps = stepsOf(workflow);
  const image = "${{ steps.image.outputs.ref }}";

  it("runs on pushes to main, one deploy at a time, never cancelling one under way", () => {
    expect(workflow.on).toEqual({ push: { branches: ["main"] } });
    expect(workflow.concurrency).toEqual({ group: expect.any(String), "cancel-in-progress": false });
  });

  it("builds and pushes the image `npm run app-image` names to the DigitalOcean registry, only when it is not there", () => {
    const doctl = findStep(steps, uses("digitalocean/action-doctl"), "installing doctl");
    expect(doctl.with).toEqual({ token: "${{ secrets.DIGITALOCEAN_TOKEN }}" });
    const login = findStep(steps, runs(/^doctl registry login\b/), "logging in to the registry");
    const exists = findStep(steps, (s) => s.id === "registry", "looking the image up in the registry");
    expect(exists.run).toContain('docker buildx imagetools inspect "$IMAGE"');
    expect(exists.envSeen.IMAGE).toBe(image);
    const build = findStep(steps, uses("docker/build-push-action"), "building the image");
    expect(build.if).toBe("steps.registry.outputs.exists != 'true'");
    expect(build.with).toEqual(expect.objectContaining({ context: ".", file: "app/Dockerfile", push: true }));
    expect(resolveEnv(build.with!.tags, build.envSeen)).toBe(image);
    expect(doctl.index).toBeLessThan(login.index);
    expect(login.index).toBeLessThan(exists.index);
    expect(exists.index).toBeLessThan(build.index);
  });

  it("sets the image only after it is built and pushed", () => {
    const build = findStep(steps, uses("docker/build-push-action"), "building the image");
    const setImage = findStep(steps, runs(/^pulumi config set --path 'gomeet:app\.image'/), "setting the image");
    expect(build.index).toBeLessThan(setImage.index);
  });

  it("runs pulumi up on prod with the same policy pack, after the image is set", () => {
    const setImage = findStep(steps, runs(/^pulumi config set/), "setting the image");
    const up = findStep(steps, (s) => uses("pulumi/actions")(s) && s.with?.command === "up", "pulumi up");
    expect(majorOf(up)).toBeGreaterThanOrEqual(6);
    expect(up.index).toBeGreaterThan(setImage.index);
    expect(resolveEnv(up.with!["stack-name"], up.envSeen)).toMatch(PROD_STACK);
    expect(up.with).toEqual(expect.objectContaining({ policyPacks: "policies" }));
    expect(up.with?.policyPackConfigs).toBeUndefined();
    expect(up.envSeen).toEqual(
      expect.objectContaining({
        PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
        DIGITALOCEAN_TOKEN: "${{ secrets.DIGITALOCEAN_TOKEN }}",
      }),
    );
  });
});
