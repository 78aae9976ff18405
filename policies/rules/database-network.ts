/**
 * Rule 3: every database cluster is private, firewalled and protected against deletion.
 *
 * - Clusters and replicas sit on the stack's private network (`privateNetworkUuid`).
 * - Each cluster and each read replica has its own `DatabaseFirewall` (stack check, through the dependency graph); no firewall
 *   opens `0.0.0.0/0` or `::/0` or has no rule at all (DigitalOcean then admits any source); any other
 *   `ip_addr` rule is advisory (trusted sources should name resources, not addresses).
 * - Clusters carry the `protect` option, so neither `pulumi destroy` nor a replacement drops the data.
 */
import * as digitalocean from "@pulumi/digitalocean";
import {
  validateResourceOfType,
  type ResourceValidationArgs,
  type ReportViolation,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { describe, list, message, readOrUnknown, record, subject, text, UNKNOWN } from "./props";
import { dependentsOf } from "./relations";

/** Firewall rule types that name an IP range (the API's `ip_addr`; the SDK docs spell it `ipAddr`). */
const IP_RULE_TYPES: readonly string[] = ["ip_addr", "ipAddr"];
/** Ranges that admit the whole internet. */
const OPEN_RANGES: readonly string[] = ["0.0.0.0/0", "::/0", "0.0.0.0", "::"];

function checkPrivateNetwork(args: ResourceValidationArgs, reportViolation: ReportViolation): void {
  // The VPC's ID is unknown in a preview of a new stack: present-but-unknown counts as set.
  const uuid = readOrUnknown(() => args.props.privateNetworkUuid);
  if (uuid === UNKNOWN || (typeof uuid === "string" && uuid.length > 0)) return;
  reportViolation(
    message({
      resource: subject(args.type, args.name),
      property: "privateNetworkUuid",
      found: describe(uuid),
      required: "the ID of the stack's VPC",
      reason: "Unset puts the database in the region's default VPC, shared with everything else in the account.",
    }),
  );
}

export const databasePrivateNetwork: ResourceValidationPolicy = {
  name: "database-private-network",
  description: "Database clusters and replicas live on the stack's private network (VPC).",
  validateResource: [
    validateResourceOfType(digitalocean.DatabaseCluster, (_cluster, args, reportViolation) => checkPrivateNetwork(args, reportViolation)),
    validateResourceOfType(digitalocean.DatabaseReplica, (_replica, args, reportViolation) => checkPrivateNetwork(args, reportViolation)),
  ],
};

export const databaseDeletionProtection: ResourceValidationPolicy = {
  name: "database-deletion-protection",
  description: "Database clusters carry the protect option: no destroy or replacement can drop the data.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (_cluster, args, reportViolation) => {
    if (args.opts.protect === true) return;
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: "resource option protect",
        found: describe(args.opts.protect),
        required: "true",
        reason: "A rename or a replacing change would otherwise delete the cluster and every byte in it.",
      }),
    );
  }),
};

export const databaseFirewallRequired: StackValidationPolicy = {
  name: "database-firewall-required",
  description:
    "Every database cluster and every read replica has its own DatabaseFirewall " +
    "(without one DigitalOcean admits any source with the password).",
  validateStack: (args, reportViolation) => {
    const firewalls = args.resources.filter((r) => r.isType(digitalocean.DatabaseFirewall));
    // A replica takes its own firewall, whose cluster id is the replica's uuid (terraform-provider-digitalocean@
    // 401992a1e493a0e3cfc833197820867991fc011f:docs/resources/database_firewall.md): the primary's does not cover it.
    // A replica's firewall depends on the replica; the primary's firewall does not, so it never counts for one.
    const databases = args.resources.filter((r) => r.isType(digitalocean.DatabaseCluster) || r.isType(digitalocean.DatabaseReplica));
    for (const cluster of databases) {
      if (dependentsOf(cluster, firewalls).length > 0) continue;
      const kind = cluster.isType(digitalocean.DatabaseReplica) ? "replica" : "cluster";
      reportViolation(
        message({
          resource: subject(cluster.type, cluster.name),
          property: `firewall (a DatabaseFirewall depending on the ${kind})`,
          found: "none",
          required: "one DatabaseFirewall whose rules admit only the Kubernetes cluster",
          reason: "Without trusted sources the database accepts connections from any address that has the password.",
        }),
        cluster.urn,
      );
    }
  },
};

/** An IP-range rule of a firewall, with its index. */
interface IpRule {
  index: number;
  range: string;
}

/** The firewall's `ip_addr` rules (only those values are read: other rules carry IDs unknown in a preview). */
function ipRules(rules: unknown[]): IpRule[] {
  return rules.flatMap((item, index) => {
    const rule = record(item);
    const type = text(rule?.type);
    if (!rule || type === undefined || !IP_RULE_TYPES.includes(type)) return [];
    return [{ index, range: (text(rule.value) ?? "").trim() }];
  });
}

export const databaseFirewallNoPublicAccess: ResourceValidationPolicy = {
  name: "database-firewall-no-public-access",
  description: "No database firewall admits the whole internet (0.0.0.0/0, ::/0) or has no rule at all.",
  validateResource: validateResourceOfType(digitalocean.DatabaseFirewall, (firewall, args, reportViolation) => {
    const rules = list(firewall.rules);
    if (rules.length === 0) {
      reportViolation(
        message({
          resource: subject(args.type, args.name),
          property: "rules",
          found: describe(firewall.rules),
          required: "at least one trusted source (the Kubernetes cluster)",
          reason: "A firewall without rules restricts nothing: DigitalOcean then admits any source.",
        }),
      );
      return;
    }
    for (const rule of ipRules(rules).filter((r) => OPEN_RANGES.includes(r.range))) {
      reportViolation(
        message({
          resource: subject(args.type, args.name),
          property: `rules[${rule.index}] (ip_addr)`,
          found: describe(rule.range),
          required: "a trusted source that is not the whole internet (a k8s, droplet, tag or app rule)",
          reason: "This rule exposes the database to every address on the internet.",
        }),
      );
    }
  }),
};

export const databaseFirewallIpRules: ResourceValidationPolicy = {
  name: "database-firewall-ip-rules",
  description: "Database firewalls name resources (k8s, droplet, tag, app) rather than IP ranges, which outlive the machines they meant.",
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(digitalocean.DatabaseFirewall, (firewall, args, reportViolation) => {
    for (const rule of ipRules(list(firewall.rules)).filter((r) => !OPEN_RANGES.includes(r.range))) {
      reportViolation(
        message({
          resource: subject(args.type, args.name),
          property: `rules[${rule.index}] (ip_addr)`,
          found: describe(rule.range),
          required: "a k8s, droplet, tag or app rule instead of an address range",
          reason: "Addresses get reassigned; a resource rule follows the resource.",
        }),
      );
    }
  }),
};

/** Rule 3. */
export const databaseNetworkPolicies = [
  databasePrivateNetwork,
  databaseDeletionProtection,
  databaseFirewallRequired,
  databaseFirewallNoPublicAccess,
  databaseFirewallIpRules,
];
