/** Helpers of the policy tests: edit one resource of a plan (on a deep copy), and run the pack over a plan. */
import type { PlannedResource, PolicyPackConfig, Violation } from "../../preview/plan";
import { runPolicies } from "../../preview/runner";

/** The resource with this name (throws if absent, so a typo fails loudly). */
export function resourceNamed(resources: readonly PlannedResource[], name: string): PlannedResource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no planned resource named ${name}`);
  return found;
}

/** A deep copy of the plan with one resource changed. */
export function editResource(
  resources: readonly PlannedResource[],
  name: string,
  edit: (resource: PlannedResource) => void,
): PlannedResource[] {
  const copy = structuredClone(resources) as PlannedResource[];
  edit(resourceNamed(copy, name));
  return copy;
}

/** A deep copy of the plan with one resource's props changed. */
export function editProps(
  resources: readonly PlannedResource[],
  name: string,
  edit: (props: Record<string, any>) => void,
): PlannedResource[] {
  return editResource(resources, name, (resource) => edit(resource.props));
}

/** A deep copy of the plan without the resources that match. */
export function without(resources: readonly PlannedResource[], drop: (resource: PlannedResource) => boolean): PlannedResource[] {
  return structuredClone(resources.filter((r) => !drop(r))) as PlannedResource[];
}

/** The violations the pack reports for this plan (optionally of one policy only). */
export async function violationsOf(resources: PlannedResource[], policy?: string, config: PolicyPackConfig = {}): Promise<Violation[]> {
  const { violations } = await runPolicies(resources, config);
  return policy === undefined ? violations : violations.filter((v) => v.policy === policy);
}

/** Asserts-friendly view: the message of each violation. */
export function messagesOf(violations: readonly Violation[]): string[] {
  return violations.map((v) => v.message);
}
