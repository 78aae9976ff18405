/**
 * Test helpers for the infra program: render a stack of this repository under the mock runtime (one
 * per jest test file: the Pulumi runtime is process-global), find resources, and run the preview CLI.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse, stringify } from "yaml";
import type { PlannedResource } from "../../preview/plan";
import { renderStack, type RenderedPlan } from "../../preview/render";
import { readStackFile } from "../../preview/stack-file";

export const ROOT = path.resolve(__dirname, "../..");
export const PROGRAM = path.join(ROOT, "infra", "index.ts");

/** Renders `Pulumi.<stack>.yaml` of this repository. */
export function renderRepoStack(stack: string): Promise<RenderedPlan> {
  return renderStack(readStackFile(ROOT, stack), PROGRAM);
}

/** The single custom resource of `type` (optionally with `name`); fails loudly if there is not exactly one. */
export function one(plan: RenderedPlan, type: string, name?: string): PlannedResource {
  const found = all(plan, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
  return found[0]!;
}

/** Every custom resource of `type`. */
export function all(plan: RenderedPlan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.custom && r.type === type);
}

/** The component a resource belongs to. */
export function parentName(plan: RenderedPlan, resource: PlannedResource): string | undefined {
  return plan.resources.find((r) => r.urn === resource.parent)?.name;
}

/** Whether `resource` depends on `target`. */
export function dependsOn(resource: PlannedResource, target: PlannedResource): boolean {
  return resource.dependencies.includes(target.urn);
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How long one preview CLI run may take before the test kills it. Measured 2026-12-07 with the two-region prod
 * stack (115 resources in 24 components) on the shared 2-core machine under other engineers' load: `time npm run preview >/dev/null`
 * 13.9 s wall (tsx compiling the program and the pack ~10 s, rendering ~8.6 s, policies 0.3 s, in-process), and
 * `time npm run preview -- --diff HEAD >/dev/null` 34.4 s wall (two renders in parallel child processes). The old
 * 60 s left under 2x headroom for a diff and was exceeded under load; 180 s is ~5x the measured diff.
 */
export const PREVIEW_TIMEOUT_MS = 180_000;

/** Runs the preview CLI (`scripts/preview.ts`) with tsx, as `npm run preview` does. */
export function runPreview(args: string[]): CliResult {
  const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
  const script = path.join(ROOT, "scripts", "preview.ts");
  const result = spawnSync(tsx, [script, ...args], { cwd: ROOT, encoding: "utf8", timeout: PREVIEW_TIMEOUT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Writes a temporary `Pulumi.<name>.yaml` in the repository root: a copy of `base` with `edit` applied to its
 * parsed config. Returns the stack name and a function that removes the file.
 */
export function temporaryStack(base: string, edit: (config: Record<string, any>) => void): { stack: string; remove(): void } {
  const doc = parse(fs.readFileSync(path.join(ROOT, `Pulumi.${base}.yaml`), "utf8")) as { config: Record<string, any> };
  edit(doc.config);
  const stack = `test-${base}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
  fs.writeFileSync(file, stringify(doc));
  return { stack, remove: () => fs.rmSync(file, { force: true }) };
}
