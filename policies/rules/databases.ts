/**
 * Rules 1 and 2: managed PostgreSQL and Valkey survive the loss of a node.
 *
 * - PostgreSQL: a primary plus at least one standby (DigitalOcean promotes the standby on failure), and
 *   at least one read replica of the cluster in the stack.
 * - Valkey: a primary plus a standby; not the discontinued `redis` engine; an eviction policy that never
 *   drops keys without a TTL (room state and presence).
 */
import * as digitalocean from "@pulumi/digitalocean";
import { TYPE } from "../../infra/type-tokens";
import { validateResourceOfType, type ResourceValidationPolicy, type StackValidationPolicy } from "@pulumi/policy";
import { describe, message, num, subject, text } from "./props";
import { dependentsOf } from "./relations";
import { configSchemaOf, integerSetting, readSettings } from "./settings";

/** DigitalOcean engine slug of PostgreSQL. */
export const POSTGRES_ENGINE = "pg";
/** Engine slugs of the Redis-protocol cache (`redis` only to reject it). */
export const CACHE_ENGINES: readonly string[] = ["valkey", "redis"];

const CLUSTER = TYPE.databaseCluster;

/** What distinguishes the node-floor policies of the two engines. */
interface NodeFloorSpec {
  name: string;
  description: string;
  /** Engine slugs the policy applies to. */
  engines: readonly string[];
  /** The engine as messages name it. */
  engineName: string;
  /** Why a standby matters for this engine. */
  reason: string;
}

/** A policy that a database cluster of the given engines runs at least `minNodeCount` nodes. */
function nodeFloorPolicy(spec: NodeFloorSpec): ResourceValidationPolicy {
  const settings = {
    minNodeCount: integerSetting(2, 1, `Minimum nodes of a ${spec.engineName} cluster: a primary plus standbys.`),
  };
  return {
    name: spec.name,
    description: spec.description,
    configSchema: configSchemaOf(settings),
    validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, args, reportViolation) => {
      if (!spec.engines.includes(cluster.engine)) return args.notApplicable(`only ${spec.engineName} clusters`);
      const { minNodeCount } = readSettings(args, settings);
      const nodeCount = num(cluster.nodeCount);
      if (nodeCount !== undefined && nodeCount >= minNodeCount) return;
      reportViolation(
        message({
          resource: subject(CLUSTER, args.name),
          property: "nodeCount",
          found: cluster.nodeCount === undefined ? "unset (DigitalOcean defaults to 1)" : describe(cluster.nodeCount),
          required: `at least ${minNodeCount}`,
          reason: spec.reason,
        }),
      );
    }),
  };
}

export const postgresStandby = nodeFloorPolicy({
  name: "postgres-standby",
  description: "PostgreSQL clusters run a primary and a hot standby, so DigitalOcean fails over automatically.",
  engines: [POSTGRES_ENGINE],
  engineName: "PostgreSQL",
  reason: "Without a standby the primary is a single point of failure: a node loss is an outage until a restore.",
});

const postgresReadReplicaSettings = {
  minReadReplicas: integerSetting(1, 0, "Minimum DatabaseReplica resources per PostgreSQL cluster, in the cluster's own region."),
};

export const postgresReadReplica: StackValidationPolicy = {
  name: "postgres-read-replica",
  description: "Each PostgreSQL cluster has a read replica in the stack, so reads survive the primary's maintenance and failover.",
  configSchema: configSchemaOf(postgresReadReplicaSettings),
  validateStack: (args, reportViolation) => {
    const { minReadReplicas } = readSettings(args, postgresReadReplicaSettings);
    const replicas = args.resources.filter((r) => r.isType(digitalocean.DatabaseReplica));
    const clusters = args.resources.filter((r) => r.isType(digitalocean.DatabaseCluster) && r.props.engine === POSTGRES_ENGINE);
    for (const cluster of clusters) {
      // Only replicas in the cluster's own region serve the app's reads; a cross-region replica (the standby
      // region's DatabaseReplica) is the standby's database, not read capacity for the primary region.
      const found = dependentsOf(cluster, replicas).filter((r) => r.props.region === cluster.props.region);
      if (found.length >= minReadReplicas) continue;
      const names = found.map((r) => r.name).join(", ");
      reportViolation(
        message({
          resource: subject(cluster.type, cluster.name),
          property: "read replicas (DatabaseReplica resources in its region depending on it)",
          found: found.length === 0 ? "0" : `${found.length} (${names})`,
          required: `at least ${minReadReplicas}`,
          reason: "The app reads from replicas and falls back to the primary; without one every read loads the primary.",
        }),
        cluster.urn,
      );
    }
  },
};

export const valkeyHighAvailability = nodeFloorPolicy({
  name: "valkey-high-availability",
  description: "Valkey clusters run a primary and a standby, so rooms, presence and fan-out survive a node loss.",
  engines: CACHE_ENGINES,
  engineName: "Valkey/Redis",
  reason: "Without a standby every WebSocket room loses its state and cross-instance fan-out when the node fails.",
});

export const valkeyEngine: ResourceValidationPolicy = {
  name: "valkey-engine",
  description: "The cache runs on Valkey: DigitalOcean discontinued Managed Redis on 30 June 2025.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, args, reportViolation) => {
    if (cluster.engine !== "redis") return;
    reportViolation(
      message({
        resource: subject(CLUSTER, args.name),
        property: "engine",
        found: describe(cluster.engine),
        required: '"valkey"',
        reason: "DigitalOcean no longer offers Managed Redis; Valkey is its wire-compatible successor.",
      }),
    );
  }),
};

/** Whether an eviction policy keeps keys without a TTL. */
export function evictionKeepsPersistentKeys(policy: string): boolean {
  return policy === "noeviction" || policy.startsWith("volatile_");
}

export const valkeyEvictionPolicy: ResourceValidationPolicy = {
  name: "valkey-eviction-policy",
  description: "The cache never evicts keys without a TTL (room state, presence): eviction is noeviction or volatile_*.",
  validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster, args, reportViolation) => {
    if (!CACHE_ENGINES.includes(cluster.engine)) return args.notApplicable("only Valkey/Redis clusters");
    const policy = text(cluster.evictionPolicy);
    if (policy !== undefined && evictionKeepsPersistentKeys(policy)) return;
    reportViolation(
      message({
        resource: subject(CLUSTER, args.name),
        property: "evictionPolicy",
        found: describe(cluster.evictionPolicy),
        required: '"noeviction" or a volatile_* policy',
        reason: "Under memory pressure an allkeys_* policy silently deletes room state and history that have no TTL.",
      }),
    );
  }),
};

/** Rules 1 and 2. */
export const databasePolicies = [postgresStandby, postgresReadReplica, valkeyHighAvailability, valkeyEngine, valkeyEvictionPolicy];
