/**
 * Provider conformance: every input of every DigitalOcean resource and every DigitalOcean annotation on a
 * Kubernetes object is checked against what DigitalOcean's own sources accept (the committed facts file,
 * `infra/provider-facts/digitalocean.json`, distilled by `scripts/provider-facts.ts`): unknown inputs, missing
 * required inputs (the schema's, and those the API requires on create), enum values the API rejects, numbers out of
 * range, malformed CIDRs, unknown annotations, and the size and count rules (database standby plans and node
 * counts, DOKS node sizes). Each violation names the resource, the property, the value and the source of the rule.
 *
 * Mocks and our own runner accept anything; this is what the real `pulumi up` would meet.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { isPrivateCidr, parseCidr } from "../../infra/provider-facts/cidr";
import { PROVIDER_FACTS, type ProviderFacts, type ValueRule } from "../../infra/provider-facts/facts";
import { databaseLimitBreaches, kubernetesNodeSizeBreach } from "../../infra/provider-facts/limits";
import { describe, kindOf, readOrUnknown, record, UNKNOWN } from "./props";

/** One value that breaks a provider rule. */
export interface ConformanceFinding {
  property: string;
  value: unknown;
  /** What the source accepts. */
  required: string;
  /** `<repository>@<commit>:<path>` */
  source: string;
}

/** A plain message for a finding: resource, property, value, rule, source. */
export function conformanceMessage(type: string, name: string, f: ConformanceFinding): string {
  return `${kindOf(type)} "${name}": ${f.property} is ${describe(f.value)}; required ${f.required} (source: ${f.source}).`;
}

const show = (values: (string | number)[]) => values.map((v) => JSON.stringify(v)).join(", ");

/** The first way `value` breaks `rule`, as "what is required", or `undefined` when it conforms. */
export function breaks(rule: ValueRule, value: unknown, annotation = false): string | undefined {
  const numeric = annotation && typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  if (rule.enum) {
    const fold = (v: unknown) => (rule.ignoreCase && typeof v === "string" ? v.toLowerCase() : v);
    if (!rule.enum.map(fold).includes(fold(value) as string | number)) return `one of ${show(rule.enum)}`;
  }
  if (rule.min !== undefined || rule.max !== undefined) {
    const range = `${annotation ? "a string of digits, " : "a number "}${rule.min ?? "-∞"}..${rule.max ?? "∞"}`;
    if (typeof numeric !== "number" || !Number.isFinite(numeric)) return range;
    if ((rule.min !== undefined && numeric < rule.min) || (rule.max !== undefined && numeric > rule.max)) return range;
  }
  if (rule.minLength !== undefined || rule.maxLength !== undefined) {
    const length = `a string of ${rule.minLength ?? 0}..${rule.maxLength ?? "∞"} characters`;
    if (typeof value !== "string" || value.length < (rule.minLength ?? 0) || value.length > (rule.maxLength ?? Infinity)) return length;
  }
  if (rule.privateCidrPrefix) {
    const { min, max } = rule.privateCidrPrefix;
    const c = typeof value === "string" ? parseCidr(value) : undefined;
    if (!c || !isPrivateCidr(value as string) || c.prefix < min || c.prefix > max) {
      return `a private (RFC 1918) IPv4 range from /${min} to /${max}`;
    }
  }
  switch (rule.format) {
    case "cidr":
      return typeof value === "string" && (parseCidr(value) || /^[0-9a-f:]+\/\d{1,3}$/i.test(value))
        ? undefined
        : "a CIDR such as 10.20.0.0/16";
    case "nonEmpty":
      return value === "" || value === 0 || value === null ? "a non-empty value" : undefined;
    case "ports":
      return typeof value === "string" && value.split(",").every((p) => /^\d+$/.test(p.trim()) && Number(p) >= 1 && Number(p) <= 65535)
        ? undefined
        : "a comma-separated list of ports";
    case "bool":
      return value === "true" || value === "false" ? undefined : '"true" or "false" (a string)';
    case "uuid":
      return typeof value === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)
        ? undefined
        : "a UUID";
    case "any":
    case "string":
      return annotation && typeof value !== "string" ? "a string" : undefined;
    default:
      return undefined;
  }
}

/** Every value at a facts path (`a.b`, `a[].b`), with its concrete path; unknown values are skipped. */
export function valuesAt(props: unknown, path: string): { path: string; value: unknown }[] {
  let current: { path: string; value: unknown }[] = [{ path: "", value: props }];
  for (const part of path.split(".")) {
    const list = part.endsWith("[]");
    const key = list ? part.slice(0, -2) : part;
    current = current.flatMap(({ path: at, value }) => {
      const here = readOrUnknown(() => record(value)?.[key]);
      if (here === undefined || here === UNKNOWN) return [];
      const where = at ? `${at}.${key}` : key;
      if (!list) return [{ path: where, value: here }];
      return Array.isArray(here) ? here.map((v, i) => ({ path: `${where}[${i}]`, value: v })) : [];
    });
  }
  return current.filter(({ value }) => readOrUnknown(() => value) !== UNKNOWN);
}

const DIGITALOCEAN = "digitalocean:";
const DATABASE_CLUSTER = "digitalocean:index/databaseCluster:DatabaseCluster";
const KUBERNETES_CLUSTER = "digitalocean:index/kubernetesCluster:KubernetesCluster";

/** The size and count rules DigitalOcean enforces (the facts' `limits`): database node counts and plans, DOKS node sizes. */
function sizeLimitFindings(type: string, props: Record<string, unknown>, facts: ProviderFacts): ConformanceFinding[] {
  const known = (read: () => unknown): unknown => {
    const value = readOrUnknown(read);
    return value === UNKNOWN ? undefined : value;
  };
  if (type === DATABASE_CLUSTER) {
    const engine = known(() => props.engine);
    const size = known(() => props.size);
    const nodeCount = known(() => props.nodeCount);
    if (typeof engine !== "string" || typeof nodeCount !== "number") return [];
    const breaches = databaseLimitBreaches(engine, typeof size === "string" ? size : undefined, nodeCount, facts);
    return [
      ...(breaches.nodeCount ? [{ property: "nodeCount", value: nodeCount, ...breaches.nodeCount }] : []),
      ...(breaches.size ? [{ property: "size", value: size, ...breaches.size }] : []),
    ];
  }
  if (type === KUBERNETES_CLUSTER) {
    const size = known(() => record(props.nodePool)?.size);
    const breach = typeof size === "string" ? kubernetesNodeSizeBreach(size, facts) : undefined;
    return breach ? [{ property: "nodePool.size", value: size, ...breach }] : [];
  }
  return [];
}

/** What a DigitalOcean resource's inputs break. */
export function resourceFindings(
  type: string,
  props: Record<string, unknown>,
  facts: ProviderFacts = PROVIDER_FACTS,
): ConformanceFinding[] {
  if (!type.startsWith(DIGITALOCEAN) || type.startsWith("pulumi:")) return [];
  const resource = facts.resources[type];
  if (!resource) {
    return [
      {
        property: "(type)",
        value: type,
        required: "a resource type with provider facts (add it to infra/provider-facts/generator/generate.ts and regenerate)",
        source: "infra/provider-facts/digitalocean.json",
      },
    ];
  }
  const findings: ConformanceFinding[] = [];
  const keys = readOrUnknown(() => Object.keys(props));
  if (keys !== UNKNOWN) {
    // `__`-prefixed keys are the engine's bookkeeping (a bridged provider's Check may add `__defaults`), not inputs.
    for (const key of keys.filter((k) => !resource.inputs.includes(k) && !k.startsWith("__"))) {
      findings.push({
        property: key,
        value: readOrUnknown(() => props[key]),
        required: `no such input (inputs: ${resource.inputs.join(", ")})`,
        source: resource.schemaSource,
      });
    }
    for (const key of resource.requiredInputs.filter((k) => !keys.includes(k))) {
      findings.push({ property: key, value: undefined, required: "a value (a required input)", source: resource.schemaSource });
    }
    // Optional in the schema, required by the API (and not filled in by the provider): the create call would fail.
    const apiRequired = resource.apiRequiredInputs;
    for (const key of (apiRequired?.inputs ?? []).filter((k) => !keys.includes(k))) {
      findings.push({
        property: key,
        value: undefined,
        required: "a value (DigitalOcean's API requires it on create)",
        source: apiRequired!.source,
      });
    }
  }
  findings.push(...sizeLimitFindings(type, props, facts));
  for (const [path, fact] of Object.entries(resource.properties)) {
    for (const { path: at, value } of valuesAt(props, path)) {
      // Two sources may state the same rule (terraform and openapi): one finding per value, the first rule it breaks.
      for (const rule of fact.rules ?? []) {
        const required = breaks(rule, value);
        if (!required) continue;
        findings.push({ property: at, value, required, source: rule.source });
        break;
      }
    }
  }
  return findings;
}

/** What a Kubernetes object's DigitalOcean annotations break. */
export function annotationFindings(props: Record<string, unknown>, facts: ProviderFacts = PROVIDER_FACTS): ConformanceFinding[] {
  const annotations = readOrUnknown(() => record(record(props.metadata)?.annotations));
  if (!annotations || annotations === UNKNOWN) return [];
  const findings: ConformanceFinding[] = [];
  for (const key of Object.keys(annotations)) {
    if (!facts.annotations.prefixes.some((p) => key.startsWith(p))) continue;
    const value = readOrUnknown(() => annotations[key]);
    if (value === UNKNOWN) continue;
    const property = `metadata.annotations["${key}"]`;
    const fact = facts.annotations.known[key];
    if (!fact) {
      findings.push({
        property,
        value,
        required: "an annotation the DigitalOcean CCM knows (it ignores this one)",
        source: facts.annotations.source,
      });
      continue;
    }
    const required = breaks(fact.rule, value, true);
    if (required) findings.push({ property, value, required, source: fact.rule.source });
  }
  return findings;
}

export const providerConformance: ResourceValidationPolicy = {
  name: "provider-conformance",
  description:
    "Every DigitalOcean input and DigitalOcean annotation conforms to DigitalOcean's published rules " +
    "(schema, validation, CCM annotations, openapi).",
  validateResource: (args, reportViolation) => {
    const findings = args.type.startsWith("kubernetes:") ? annotationFindings(args.props) : resourceFindings(args.type, args.props);
    for (const f of findings) reportViolation(conformanceMessage(args.type, args.name, f));
  },
};

export const providerConformancePolicies = [providerConformance];
