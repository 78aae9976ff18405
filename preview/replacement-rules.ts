/**
 * Which property changes replace a resource instead of updating it.
 *
 * DigitalOcean resources: from the provider facts (`infra/provider-facts/digitalocean.json`): terraform `ForceNew`
 * (which pulumi-digitalocean's schema carries as `willReplaceOnChanges`) and `customdiff.ForceNewIfChange` (DOKS
 * `version` replaced when lowered). Kubernetes objects and the Kubernetes provider: hand-kept, below.
 */
import { PROVIDER_FACTS, type ProviderFacts } from "../infra/provider-facts/facts";
import { TYPE } from "../infra/type-tokens";

/** A property change, as the diff sees it (`new` absent when unknown until apply). */
export interface ChangedProperty {
  path: string;
  old?: unknown;
  new?: unknown;
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);

/** `rules[0].type` → `rules[].type`: a diff path in the facts' notation. */
export function factsPath(path: string): string {
  return path.replace(/\[\d+\]/g, "[]");
}

function versionLess(a: unknown, b: unknown): boolean {
  const parts = (v: unknown) =>
    String(v)
      .split(/[.-]/)
      .map((p) => Number.parseInt(p, 10));
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const [p, q] = [x[i] ?? 0, y[i] ?? 0];
    if (Number.isNaN(p) || Number.isNaN(q)) return false;
    if (p !== q) return p < q;
  }
  return false;
}

/** Whether a change at `path` replaces a DigitalOcean resource of `type`, by the facts. */
export function replacedByFacts(type: string, d: ChangedProperty, facts: ProviderFacts = PROVIDER_FACTS): boolean {
  const resource = facts.resources[type];
  if (!resource) return false;
  const path = factsPath(d.path);
  return Object.entries(resource.properties).some(([factPath, fact]) => {
    // A change inside a ForceNew property, or of a whole block that holds one, replaces the resource.
    if (!under(path, factPath) && !under(factPath, path)) return false;
    if (fact.forceNew) return true;
    const known = "new" in d && d.new !== undefined;
    return fact.forceNewWhenDecreased === true && path === factPath && (!known || versionLess(d.new, d.old));
  });
}

/**
 * Kubernetes (hand-kept, the API server's immutable fields): an object's name or namespace, a Deployment's selector.
 * The Kubernetes provider: a different (or unknown) kubeconfig means another cluster, and pulumi-kubernetes replaces
 * the provider and with it every object it manages.
 */
const KUBERNETES_REPLACED_ON: Record<string, (path: string) => boolean> = {
  [TYPE.deployment]: (p) => under(p, "spec.selector"),
  [TYPE.statefulSet]: (p) => under(p, "spec.selector") || under(p, "spec.serviceName"),
  [TYPE.daemonSet]: (p) => under(p, "spec.selector"),
  [TYPE.secret]: (p) => p === "type",
  [TYPE.kubernetesProvider]: (p) => ["kubeconfig", "clusterIdentifier", "cluster", "context"].includes(p),
};

/** Whether changing `d` replaces a resource of `type`. */
export function forcesReplacement(type: string, d: ChangedProperty): boolean {
  if (type.startsWith("digitalocean:")) return replacedByFacts(type, d);
  if (type.startsWith("kubernetes:") && (d.path === "metadata.name" || d.path === "metadata.namespace")) return true;
  return KUBERNETES_REPLACED_ON[type]?.(d.path) ?? false;
}
