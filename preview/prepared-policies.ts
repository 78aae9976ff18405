/**
 * The pack's policies made ready to run against a policy config, the way the engine does it: every
 * policy's settings validated against its `configSchema` (defaults filled in; a bad value is a
 * {@link PolicyConfigError} naming the policy and key, all problems at once), and its enforcement level
 * resolved: config file > policy > pack default; `disabled` drops the policy, `remediate` reports as
 * `mandatory` (as the engine does for validations).
 */
import { z } from "zod";
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import type { PolicyPackConfig } from "./plan";
import { PolicyConfigError } from "./policy-config";

const LEVELS = ["mandatory", "advisory", "disabled", "remediate"] as const;
export type AnyLevel = (typeof LEVELS)[number];

/** A policy ready to run: its level and validated configuration. */
export interface PreparedPolicy {
  policy: ResourceValidationPolicy | StackValidationPolicy;
  level: "mandatory" | "advisory";
  config: Record<string, unknown>;
}

export function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

export function isResourcePolicy(policy: Policies[number]): policy is ResourceValidationPolicy {
  return (policy as ResourceValidationPolicy).validateResource !== undefined;
}

function render(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Validates the config against the policies and resolves each policy's level and settings. */
export function preparePolicies(policies: Policies, config: PolicyPackConfig, packLevel: AnyLevel): PreparedPolicy[] {
  const problems: string[] = [];
  const names = new Set(policies.map((p) => p.name));
  for (const name of Object.keys(config).filter((n) => !names.has(n))) {
    problems.push(`"${name}" is not a policy of this pack (known: ${[...names].join(", ")})`);
  }
  const prepared: PreparedPolicy[] = [];
  for (const policy of policies) {
    if (!isStackPolicy(policy) && !isResourcePolicy(policy)) {
      problems.push(`policy "${(policy as { name: string }).name}" has neither validateResource nor validateStack`);
      continue;
    }
    const entry = config[policy.name] ?? {};
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      problems.push(`policy "${policy.name}": config must be an object, found ${render(entry)}`);
      continue;
    }
    const { enforcementLevel, ...values } = entry as Record<string, unknown>;
    if (enforcementLevel !== undefined && !LEVELS.includes(enforcementLevel as AnyLevel)) {
      problems.push(`policy "${policy.name}": enforcementLevel is ${render(enforcementLevel)}; required one of ${LEVELS.join(", ")}`);
      continue;
    }
    // The policy SDK's JSON-schema typings and zod's differ only in how they spell the same JSON Schema.
    const jsonSchema = {
      type: "object",
      properties: policy.configSchema?.properties ?? {},
      required: policy.configSchema?.required ?? [],
      additionalProperties: false,
    } as unknown as Parameters<typeof z.fromJSONSchema>[0];
    const schema = z.fromJSONSchema(jsonSchema);
    const parsed = schema.safeParse(values);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const paths = issue.path.length > 0 ? [issue.path] : "keys" in issue ? issue.keys.map((key) => [key]) : [[]];
        for (const at of paths) {
          const found = at.reduce<unknown>((value, key) => (value as Record<PropertyKey, unknown> | undefined)?.[key], values);
          problems.push(`policy "${policy.name}": ${at.map(String).join(".") || "(config)"} is ${render(found)}: ${issue.message}`);
        }
      }
      continue;
    }
    const level = (enforcementLevel as AnyLevel | undefined) ?? policy.enforcementLevel ?? packLevel;
    if (level === "disabled") continue;
    prepared.push({ policy, level: level === "advisory" ? "advisory" : "mandatory", config: parsed.data as Record<string, unknown> });
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  return prepared;
}
