/**
 * The offline policy runner: evaluates the pack's policies over a planned resource set the way the
 * Pulumi engine's analyzer does (see `@pulumi/policy/server.js`), without the CLI.
 *
 * - The policies are prepared against the config first (prepared-policies.ts: settings validated, enforcement
 *   levels resolved), and the planned resources checked (unique URNs).
 * - Resource policies run per custom resource, once per validation function; stack policies once, over
 *   every resource (engine-args.ts builds what each call receives, as the engine does).
 * - A validation that reads a preview-unknown value is reported as advisory "can't run during preview";
 *   `notApplicable()` is no violation; any other error names the policy and the resource.
 * The stack's config file is read by policy-config.ts.
 */
import type { Policies, ReportViolation, ResourceValidation, StackValidationArgs } from "@pulumi/policy";
import { getConfigOf, NO_STACK_TAGS, NotApplicable, pulumiTypeOf, resourceArgs, stackResources, throwNotApplicable } from "./engine-args";
import type { PlannedResource, PolicyPackConfig, Violation } from "./plan";
import { version as packVersion } from "../policies/package.json";
import { packEnforcementLevel, packName, policies as packPolicies } from "../policies/policies";
import { isResourcePolicy, isStackPolicy, preparePolicies, type PreparedPolicy } from "./prepared-policies";
import { NO_SINGLE_POINT_OF_FAILURE, scorecardThresholdsOf } from "../policies/rules/single-point-of-failure";
import { haScorecard, type ScorecardTier } from "../policies/rules/scorecard";
import { isUnknownValueError } from "../policies/rules/unknown-values";

/** What a run reports. */
export interface PolicyRun {
  violations: Violation[];
  scorecard: ScorecardTier[];
}

/** Runs one validation call, turning the engine's special outcomes into results. */
async function invoke(
  policyName: string,
  where: string,
  call: () => Promise<void> | void,
  onUnknown: (message: string) => void,
): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (error instanceof NotApplicable) return;
    if (isUnknownValueError(error)) {
      onUnknown(`can't run policy '${policyName}' from policy pack '${packName}@v${packVersion}' during preview: ${error.message}`);
      return;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`policy "${policyName}" failed on ${where}: ${reason}`, { cause: error });
  }
}

function violationOf(prepared: PreparedPolicy, message: string, resource: string | undefined, level = prepared.level): Violation {
  const text = message.length > 0 ? message : prepared.policy.description;
  return resource === undefined
    ? { policy: prepared.policy.name, level, message: text }
    : { policy: prepared.policy.name, level, resource, message: text };
}

async function runResourcePolicies(
  resources: readonly PlannedResource[],
  prepared: PreparedPolicy[],
  violations: Violation[],
): Promise<void> {
  for (const resource of resources.filter((r) => r.custom)) {
    for (const entry of prepared) {
      if (!isResourcePolicy(entry.policy) || entry.policy.validateResource === undefined) continue;
      const validate = entry.policy.validateResource;
      const restrictedTo = Array.isArray(validate) ? undefined : pulumiTypeOf(validate);
      if (restrictedTo !== undefined && restrictedTo !== resource.type) continue;
      const validations: ResourceValidation[] = Array.isArray(validate) ? validate : [validate];
      const report: ReportViolation = (message) => violations.push(violationOf(entry, message, resource.name));
      for (const validation of validations) {
        await invoke(
          entry.policy.name,
          `resource "${resource.name}" (${resource.type})`,
          () => validation(resourceArgs(resource, entry), report),
          (message) => violations.push(violationOf(entry, message, resource.name, "advisory")),
        );
      }
    }
  }
}

async function runStackPolicies(resources: readonly PlannedResource[], prepared: PreparedPolicy[], violations: Violation[]): Promise<void> {
  const nameByUrn = new Map(resources.map((r) => [r.urn, r.name]));
  for (const entry of prepared) {
    if (!isStackPolicy(entry.policy)) continue;
    const policy = entry.policy;
    const restrictedTo = pulumiTypeOf(policy.validateStack);
    if (restrictedTo !== undefined && !resources.some((r) => r.type === restrictedTo)) continue;
    const args: StackValidationArgs = {
      resources: stackResources(resources),
      stackTags: NO_STACK_TAGS,
      getConfig: getConfigOf(entry),
      notApplicable: throwNotApplicable,
    };
    const report: ReportViolation = (message, urn) =>
      violations.push(violationOf(entry, message, urn === undefined ? undefined : (nameByUrn.get(urn) ?? urn)));
    await invoke(
      policy.name,
      "the stack",
      () => policy.validateStack(args, report),
      (message) => violations.push(violationOf(entry, message, undefined, "advisory")),
    );
  }
}

function checkUniqueUrns(resources: readonly PlannedResource[]): void {
  const seen = new Set<string>();
  for (const resource of resources) {
    if (seen.has(resource.urn)) throw new Error(`two planned resources share the URN ${resource.urn}`);
    seen.add(resource.urn);
  }
}

/**
 * Evaluates `policies` (the pack's by default) over the planned resources with the given policy
 * config, and computes the HA scorecard with the `no-single-point-of-failure` thresholds in effect.
 */
export async function runPolicies(
  resources: PlannedResource[],
  config: PolicyPackConfig = {},
  policies: Policies = packPolicies,
): Promise<PolicyRun> {
  checkUniqueUrns(resources);
  const prepared = preparePolicies(policies, config, packEnforcementLevel);
  const violations: Violation[] = [];
  await runResourcePolicies(resources, prepared, violations);
  await runStackPolicies(resources, prepared, violations);
  const spofConfig = prepared.find((p) => p.policy.name === NO_SINGLE_POINT_OF_FAILURE)?.config ?? {};
  return { violations, scorecard: haScorecard(resources, scorecardThresholdsOf(spofConfig)) };
}
