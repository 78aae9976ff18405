/**
 * The arguments a policy's validation function receives, built as the Pulumi engine's analyzer builds
 * them (see `@pulumi/policy/server.js`): each call gets a fresh copy of the props wrapped so that
 * reading a preview-unknown value throws (a policy mutating its props touches only its copy), the
 * resource options, `isType`/`asType`, `getConfig` and `notApplicable`; stack policies get every
 * resource with `parent` and `dependencies` resolved to resource objects.
 */
import type { PolicyResource, PolicyResourceOptions, ResourceValidationArgs } from "@pulumi/policy";
import { SECRET_PATHS, type OfflineResourceContext } from "../policies/rules/offline-context";
import type { PlannedResource } from "./plan";
import type { PreparedPolicy } from "./prepared-policies";
import { unknownCheckingProxy } from "../policies/rules/unknown-values";

/** Thrown by `notApplicable()`: the policy does not apply to this resource or stack. */
export class NotApplicable extends Error {}

export function throwNotApplicable(reason?: string): never {
  throw new NotApplicable(reason ?? "policy does not apply");
}

/** The type a `validateResourceOfType` validation is restricted to, if any (the engine's fast path). */
export function pulumiTypeOf(fn: unknown): string | undefined {
  const token = (fn as { __pulumiType?: unknown } | undefined)?.__pulumiType;
  return typeof token === "string" && token.length > 0 ? token : undefined;
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
    ignoreChanges: [...(resource.ignoreChanges ?? [])],
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

export function getConfigOf(prepared: PreparedPolicy): <T extends object>() => T {
  return <T extends object>() => structuredClone(prepared.config) as T;
}

export const NO_STACK_TAGS: ReadonlyMap<string, string> = new Map();

export function resourceArgs(resource: PlannedResource, prepared: PreparedPolicy): ResourceValidationArgs {
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
export function stackResources(resources: readonly PlannedResource[]): PolicyResource[] {
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
