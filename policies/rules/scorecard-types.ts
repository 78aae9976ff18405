/** The HA scorecard's input and rows, shared by scorecard.ts and the tiers it composes (region-tier.ts). */
/** What the scorecard reads of a resource. */
export interface ScorecardInput {
  type: string;
  name: string;
  urn: string;
  props: Record<string, unknown>;
  /** URNs of the resources it depends on. */
  dependencies: readonly string[];
}

/** One row of the scorecard. */
export interface ScorecardTier {
  /** e.g. `PostgreSQL`, or `PostgreSQL (gomeet-prod-pg)` when the stack has several. */
  tier: string;
  /** e.g. `2 nodes (primary + standby) + 1 read replica`. */
  redundancy: string;
  /** Whether this tier is a single point of failure. */
  spof: boolean;
  /** The resource the row describes (absent when the tier is missing from the stack). */
  resource?: string;
  urn?: string;
  /** For a single point of failure: the property, the value found and the value required. */
  reason?: string;
  /** A single point of failure accepted on purpose: what it costs and what would remove it (not a violation). */
  accepted?: string;
}
