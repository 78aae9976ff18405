/**
 * The size and count rules DigitalOcean enforces (the provider facts' `limits`, with their sources): at most
 * `maxNodes` nodes in a database cluster of an engine (primary + standbys), standby nodes only on plans with at
 * least `standbyMinMemoryGb` of memory, DOKS nodes of at least `kubernetesNodeMinMemoryGb`. One function per rule,
 * used by the stack config (infra/config.ts: the key is named) and by the provider-conformance policy (the
 * resource is named).
 */
import { PROVIDER_FACTS, slugMemoryGb, type LimitFact, type ProviderFacts } from "./facts";

/** A broken limit: what is required, and where the rule comes from. */
export interface LimitBreach {
  required: string;
  /** The rule's sources, `; `-separated. */
  source: string;
}

const sourcesOf = (fact: LimitFact): string => fact.sources.join("; ");

/** What a database cluster of `engine` with `nodeCount` nodes of `size` breaks, per property. */
export function databaseLimitBreaches(
  engine: string,
  size: string | undefined,
  nodeCount: number | undefined,
  facts: Pick<ProviderFacts, "limits"> = PROVIDER_FACTS,
): { nodeCount?: LimitBreach; size?: LimitBreach } {
  const limits = facts.limits.databases[engine];
  if (limits === undefined || nodeCount === undefined) return {};
  const out: { nodeCount?: LimitBreach; size?: LimitBreach } = {};
  if (nodeCount > limits.maxNodes.value) {
    out.nodeCount = {
      required: `at most ${limits.maxNodes.value} nodes for ${engine} (${limits.maxNodes.value - 1} standby): "${limits.maxNodes.text}"`,
      source: sourcesOf(limits.maxNodes),
    };
  }
  const memory = size === undefined ? undefined : slugMemoryGb(size, facts);
  const min = limits.standbyMinMemoryGb.value;
  if (nodeCount >= 2 && memory !== undefined && memory < min) {
    out.size = {
      required: `a plan with at least ${min} GB of memory when the cluster has standby nodes (${nodeCount} nodes): "${limits.standbyMinMemoryGb.text}"`,
      source: sourcesOf(limits.standbyMinMemoryGb),
    };
  }
  return out;
}

/** What a DOKS node size breaks (unknown memory, e.g. `c-2`, is not judged). */
export function kubernetesNodeSizeBreach(size: string, facts: Pick<ProviderFacts, "limits"> = PROVIDER_FACTS): LimitBreach | undefined {
  const memory = slugMemoryGb(size, facts);
  const min = facts.limits.kubernetesNodeMinMemoryGb;
  if (memory === undefined || memory >= min.value) return undefined;
  return { required: `a node size with at least ${min.value} GB of memory: ${min.text}`, source: sourcesOf(min) };
}
