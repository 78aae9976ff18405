/**
 * The shape of `digitalocean.json`: what DigitalOcean's own published sources say this stack's resources
 * accept, distilled by `scripts/provider-facts.ts` from checkouts of pulumi-digitalocean (schema),
 * terraform-provider-digitalocean (validation, ForceNew), the DigitalOcean CCM (Service annotations) and
 * DigitalOcean's openapi (monitoring and uptime enums, load balancer ranges). Every fact names its source as
 * `<repository>@<commit>:<path>`.
 */
import facts from "./digitalocean.json";

/** A checkout a fact was read from. */
export interface FactSource {
  repository: string;
  commit: string;
}

/** What a value must look like. */
export interface ValueRule {
  /** Accepted values (strings compared exactly unless `ignoreCase`). */
  enum?: (string | number)[];
  ignoreCase?: boolean;
  /** Inclusive numeric range. */
  min?: number;
  max?: number;
  /** Inclusive string length range. */
  minLength?: number;
  maxLength?: number;
  /** `cidr`: an IPv4/IPv6 CIDR; `nonEmpty`: not "", 0 or unset when given; `ports`: comma-separated ports; `bool`: "true"/"false". */
  format?: "cidr" | "nonEmpty" | "ports" | "bool" | "any" | "string" | "uuid";
  /** A private IPv4 range (RFC 1918) with a prefix length between these bounds (VPC ip_range). */
  privateCidrPrefix?: { min: number; max: number };
  /** `<repository>@<commit>:<path>` */
  source: string;
}

/** One input property (path in Pulumi's camelCase, `[]` for list elements, e.g. `maintenanceWindows[].day`). */
export interface PropertyFact {
  /** Replaced, not updated, when it changes (terraform ForceNew = Pulumi `willReplaceOnChanges`). */
  forceNew?: boolean;
  /** Replaced when the new value is lower than the old (terraform `customdiff.ForceNewIfChange`). */
  forceNewWhenDecreased?: boolean;
  rules?: ValueRule[];
  /** Where the ForceNew / validation fact comes from. */
  source: string;
}

/** One resource type. */
export interface ResourceFacts {
  /** Inputs the schema declares (top level); any other input is unknown to the provider. */
  inputs: string[];
  requiredInputs: string[];
  properties: Record<string, PropertyFact>;
  /**
   * Inputs DigitalOcean's API requires on create (openapi: the operation's request body `required`) that the
   * schema leaves optional, e.g. an uptime alert's `period`: the provider passes them on unset and the API refuses.
   */
  apiRequiredInputs?: { inputs: string[]; source: string };
  /** Where the inputs come from (schema) and where the terraform resource lives. */
  schemaSource: string;
  terraformSource: string;
}

/** One Service annotation the CCM reads (or writes). */
export interface AnnotationFact {
  rule: ValueRule;
  /** Written by the CCM itself, not set by users. */
  writtenByCcm?: boolean;
  /** The documentation's sentence about its value. */
  summary: string;
}

/** A size or count rule DigitalOcean enforces (limit-facts.ts): the number, what the sources say, and where. */
export interface LimitFact {
  value: number;
  text: string;
  /** `<repository>@<commit>:<path>`, or a documentation address with the date it was read. */
  sources: string[];
}

/** Limits no schema states (infra/provider-facts/generator/limit-facts.ts). */
export interface LimitFacts {
  /** How a size slug names its memory in GB (a regular expression; group 1 is the number). */
  slugMemory: { pattern: string; text: string; source: string };
  /** Per database engine (`pg`, `valkey`): most nodes (primary + standbys), and the smallest plan that takes standbys. */
  databases: Record<string, { maxNodes: LimitFact; standbyMinMemoryGb: LimitFact }>;
  /** The smallest DOKS worker node. */
  kubernetesNodeMinMemoryGb: LimitFact;
}

/** The whole facts file. */
export interface ProviderFacts {
  generatedBy: string;
  sources: Record<"pulumi" | "terraform" | "ccm" | "openapi", FactSource>;
  resources: Record<string, ResourceFacts>;
  annotations: { prefixes: string[]; known: Record<string, AnnotationFact>; /** The CCM annotations doc. */ source: string };
  /** Facts that are not a property rule: notification e-mails must be verified, alert type meanings. */
  notes: Record<string, { text: string; source: string }>;
  limits: LimitFacts;
}

/** A size slug's memory in GB, when the slug names it (`db-s-1vcpu-2gb` → 2; `c-2` → undefined). */
export function slugMemoryGb(slug: string, facts: Pick<ProviderFacts, "limits"> = PROVIDER_FACTS): number | undefined {
  const m = new RegExp(facts.limits.slugMemory.pattern).exec(slug);
  return m ? Number(m[1]) : undefined;
}

/** The committed facts. */
export const PROVIDER_FACTS: ProviderFacts = facts as ProviderFacts;
