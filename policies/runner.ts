/**
 * The offline policy runner: evaluates the pack's policies over a planned resource set the way the
 * Pulumi engine's analyzer does (see `@pulumi/policy/server.js`), without the CLI.
 *
 * - Enforcement level per policy: config file > policy > pack default; `disabled` skips the policy,
 *   `remediate` reports as `mandatory` (as the engine does for validations).
 * - Config: each policy's `configSchema` defaults merged with the config file's values and validated
 *   against the schema up front; a bad value is a {@link PolicyConfigError} naming the policy and key.
 * - Resource policies run per custom resource, once per validation function, each call with a fresh
 *   copy of the props wrapped like the engine's (reading a preview-unknown value throws; the runner
 *   reports "can't run during preview" as advisory). A policy mutating its props touches only its copy.
 * - Stack policies get every resource with `parent` and `dependencies` resolved to resource objects.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import type {
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { SECRET_PATHS, type OfflineResourceContext } from "./offline-context";
import type { EnforcementLevel, PlannedResource, PolicyPackConfig, Violation } from "./plan";
import { version as packVersion } from "./package.json";
import { packEnforcementLevel, packName, policies as packPolicies } from "./policies";
import { NO_SINGLE_POINT_OF_FAILURE, scorecardThresholdsOf } from "./rules/single-point-of-failure";
import { haScorecard, type ScorecardTier } from "./scorecard";
import { isUnknownValueError, unknownCheckingProxy } from "./unknown-values";

/** Where the per-stack policy config files live (the files CI passes as `--policy-pack-config`). */
export const POLICY_CONFIG_DIR = path.join(__dirname, "config");

/** What a run reports. */
export interface PolicyRun {
  violations: Violation[];
  scorecard: ScorecardTier[];
}

/** A policy config that does not fit the pack: names every bad policy/key. */
export class PolicyConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid policy pack config:\n  - ${problems.join("\n  - ")}`);
    this.name = "PolicyConfigError";
  }
}

const LEVELS = ["mandatory", "advisory", "disabled", "remediate"] as const;
type AnyLevel = (typeof LEVELS)[number];

/** A policy ready to run: its level and validated configuration. */
interface PreparedPolicy {
  policy: ResourceValidationPolicy | StackValidationPolicy;
  level: "mandatory" | "advisory";
  config: Record<string, unknown>;
}

/** Thrown by `notApplicable()`: the policy does not apply to this resource or stack. */
class NotApplicable extends Error {}

function throwNotApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "policy does not apply");
}

function isStackPolicy(policy: Policies[number]): policy is StackValidationPolicy {
  return typeof (policy as StackValidationPolicy).validateStack === "function";
}

function isResourcePolicy(policy: Policies[number]): policy is ResourceValidationPolicy {
  return (policy as ResourceValidationPolicy).validateResource !== undefined;
}

/** The type a `validateResourceOfType` validation is restricted to, if any (the engine's fast path). */
function pulumiTypeOf(fn: unknown): string | undefined {
  const token = (fn as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof token === "string" && token.length > 0 ? token : undefined;
}

function render(value: unknown): string {
  return value === undefined ? "nothing" : JSON.stringify(value);
}

/** Validates the config against the policies and resolves each policy's level and settings. */
function preparePolicies(policies: Policies, config: PolicyPackConfig, packLevel: AnyLevel): PreparedPolicy[] {
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

/**
 * A plain copy of a property value, as the engine's (de)serialization produces it: object entries
 * whose value is `undefined` disappear, `undefined` array items become `null`.
 */
function plainCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : plainCopy(item)));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, plainCopy(v)]),
    );
  }
  return value;
}

/** Props as a policy receives them: a private copy behind the engine's unknown-checking proxy. */
function policyProps(props: Record<string, unknown>): Record<string, unknown> {
  return unknownCheckingProxy(plainCopy(props) as Record<string, unknown>);
}

function optionsOf(resource: PlannedResource): PolicyResourceOptions {
  const options: PolicyResourceOptions = {
    protect: resource.protect,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [...resource.additionalSecretOutputs],
  };
  if (resource.parent) options.parent = resource.parent;
  return options;
}

/** The engine's `isType`: compare the class's type token (or ask its `isInstance`). */
function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = pulumiTypeOf(resourceClass);
  if (token) return type === token;
  const isInstance = (resourceClass as { isInstance?: unknown } | undefined)?.isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function getConfigOf(prepared: PreparedPolicy): <T extends object>() => T {
  return <T extends object>() => structuredClone(prepared.config) as T;
}

const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

function resourceArgs(resource: PlannedResource, prepared: PreparedPolicy): ResourceValidationArgs {
  const props = policyProps(resource.props);
  const args: ResourceValidationArgs & OfflineResourceContext = {
    type: resource.type,
    props,
    urn: resource.urn,
    name: resource.name,
    opts: optionsOf(resource),
    stackTags: NO_STACK_TAGS,
    isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
    asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as ResourceValidationArgs["asType"],
    getConfig: getConfigOf(prepared),
    notApplicable: throwNotApplicable,
    [SECRET_PATHS]: Object.freeze([...resource.secretPaths]),
  };
  return args;
}

/** The stack as a stack policy sees it: fresh resources with parent and dependencies resolved. */
function stackResources(resources: readonly PlannedResource[]): PolicyResource[] {
  const byUrn = new Map<string, PolicyResource>();
  const built = resources.map((resource) => {
    const props = policyProps(resource.props);
    const policyResource: PolicyResource = {
      type: resource.type,
      props,
      urn: resource.urn,
      name: resource.name,
      opts: optionsOf(resource),
      dependencies: [],
      propertyDependencies: {},
      isType: (resourceClass) => isTypeOf(resource.type, resourceClass),
      asType: ((resourceClass: unknown) => (isTypeOf(resource.type, resourceClass) ? props : undefined)) as PolicyResource["asType"],
    };
    byUrn.set(resource.urn, policyResource);
    return policyResource;
  });
  resources.forEach((resource, index) => {
    const policyResource = built[index];
    const parent = resource.parent === undefined ? undefined : byUrn.get(resource.parent);
    if (parent) policyResource.parent = parent;
    policyResource.dependencies = resource.dependencies.flatMap((urn) => {
      const dependency = byUrn.get(urn);
      return dependency ? [dependency] : [];
    });
  });
  return built;
}

/** Runs one validation call, turning the engine's special outcomes into results. */
async function invoke(policyName: string, where: string, call: () => Promise<void> | void, onUnknown: (message: string) => void): Promise<void> {
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
  return resource === undefined ? { policy: prepared.policy.name, level, message: text } : { policy: prepared.policy.name, level, resource, message: text };
}

async function runResourcePolicies(resources: readonly PlannedResource[], prepared: PreparedPolicy[], violations: Violation[]): Promise<void> {
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
    const report: ReportViolation = (message, urn) => violations.push(violationOf(entry, message, urn === undefined ? undefined : (nameByUrn.get(urn) ?? urn)));
    await invoke(policy.name, "the stack", () => policy.validateStack(args, report), (message) => violations.push(violationOf(entry, message, undefined, "advisory")));
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
