/**
 * A stack's policy config file (`policies/config/<stack>.json`, the file CI passes to the Pulumi CLI as
 * `--policy-pack-config`): where it lives, how it is read, and the error that names what does not fit.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type { EnforcementLevel, PolicyPackConfig } from "./plan";

/** Where the per-stack policy config files live (the files CI passes as `--policy-pack-config`). */
export const POLICY_CONFIG_DIR = path.join(__dirname, "..", "policies", "config");

/** A policy config that does not fit the pack: names every bad policy/key. */
export class PolicyConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid policy pack config:\n  - ${problems.join("\n  - ")}`);
    this.name = "PolicyConfigError";
  }
}

const policyConfigFile = z.record(
  z.string(),
  z.union([
    z.enum(["mandatory", "advisory", "disabled"]),
    z.looseObject({ enforcementLevel: z.enum(["mandatory", "advisory", "disabled"]).optional() }),
  ]),
);

/**
 * The policy config of a stack: `<dir>/<stack>.json` if it exists (the file CI passes as
 * `--policy-pack-config`), else `{}` (every policy at its production defaults). The CLI's shorthand
 * `"policy": "advisory"` becomes `{ enforcementLevel: "advisory" }`.
 */
export function loadPolicyConfig(stack: string, dir: string = POLICY_CONFIG_DIR): PolicyPackConfig {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(stack)) {
    throw new PolicyConfigError([`stack name ${JSON.stringify(stack)} is not a plain stack name (letters, digits, ".", "_", "-")`]);
  }
  const file = path.join(dir, `${stack}.json`);
  if (!fs.existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (error) {
    throw new PolicyConfigError([`${file}: not valid JSON (${error instanceof Error ? error.message : String(error)})`]);
  }
  const parsed = policyConfigFile.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyConfigError(parsed.error.issues.map((issue) => `${file}: ${issue.path.join(".") || "(root)"}: ${issue.message}`));
  }
  const config: PolicyPackConfig = {};
  for (const [policy, entry] of Object.entries(parsed.data)) {
    config[policy] = typeof entry === "string" ? { enforcementLevel: entry as EnforcementLevel } : (entry as PolicyPackConfig[string]);
  }
  return config;
}
