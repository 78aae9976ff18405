import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import type { PostgresConfig } from "./config";
import { managedDatabase, type DatabasePlacement } from "./managed-database";

/** Arguments of {@link Postgres}. */
export interface PostgresArgs extends DatabasePlacement {
  config: PostgresConfig;
  /**
   * Adopt an existing cluster instead of creating one: after a region failover, the promoted node (its id, and the
   * name it had as a replica). Its database, user, pool and firewall are adopted with it (import ids from
   * terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:docs/resources/database_{cluster,db,user,
   * connection_pool,firewall}.md, "Import": the cluster's id, or `<cluster id>,<name>`). See docs/runbooks.md, "Reconcile".
   */
  import?: { clusterId: string; clusterName: string };
}

/**
 * A `postgresql://` URL for the app user on a host of the cluster: TLS, verifying the server's certificate and
 * name (the app verifies against DigitalOcean's CA from DATABASE_CA_FILE; other libpq clients need sslrootcert).
 */
export function postgresUrl(parts: { user: string; password: string; host: string; port: number; database: string }): string {
  const auth = `${encodeURIComponent(parts.user)}:${encodeURIComponent(parts.password)}`;
  return `postgresql://${auth}@${parts.host}:${parts.port}/${encodeURIComponent(parts.database)}?sslmode=verify-full`;
}

/**
 * Managed PostgreSQL with a hot standby (DigitalOcean promotes it on failure), read replica(s), the app's
 * database, user and transaction-mode connection pool, and a firewall that admits only Kubernetes.
 */
export class Postgres extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  readonly clusterUrn: pulumi.Output<string>;
  /** Private host of the primary. */
  readonly privateHost: pulumi.Output<string>;
  /** DigitalOcean's CA certificate (PEM) that signs the cluster's server certificates. */
  readonly caCertificate: pulumi.Output<string>;
  /** The app's URL: through the pool, on the private network, TLS verified (secret). */
  readonly poolUrl: pulumi.Output<string>;
  /** One URL per read replica for the app user (secret). */
  readonly replicaUrls: pulumi.Output<string[]>;
  /** The app user's credentials and database (secret): a cross-region node has the same roles, they replicate. */
  readonly appLogin: pulumi.Output<{ user: string; password: string; database: string }>;

  constructor(name: string, args: PostgresArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Postgres", name, {}, opts);
    const { config: cfg, ...placement } = args;
    const adopt = args.import;
    const clusterName = adopt?.clusterName ?? `${args.prefix}-pg`;
    const imported = (name?: string) => (adopt ? { import: name === undefined ? adopt.clusterId : `${adopt.clusterId},${name}` } : {});
    const { cluster, caCertificate } = managedDatabase(
      {
        ...placement,
        name: clusterName,
        engine: "pg",
        version: cfg.version,
        size: cfg.size,
        nodeCount: cfg.nodeCount,
        maintenance: cfg.maintenance,
        importId: adopt?.clusterId,
      },
      this,
    );
    const db = new digitalocean.DatabaseDb(
      `${clusterName}-db`,
      { clusterId: cluster.id, name: cfg.database },
      { parent: this, ...imported(cfg.database) },
    );
    const user = new digitalocean.DatabaseUser(
      `${clusterName}-user`,
      { clusterId: cluster.id, name: cfg.user },
      { parent: this, ...imported(cfg.user) },
    );
    const pool = new digitalocean.DatabaseConnectionPool(
      `${clusterName}-pool`,
      { clusterId: cluster.id, name: `${cfg.database}-pool`, mode: "transaction", size: cfg.poolSize, dbName: db.name, user: user.name },
      // Every pool field is ForceNew (terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
      // digitalocean/database/resource_database_connection_pool.go) and the name is fixed: created first, the new pool
      // would collide with the old one. The app's connections drop while the pool is recreated (seconds).
      { parent: this, deleteBeforeReplace: true, ...imported(`${cfg.database}-pool`) },
    );
    const replicas = Array.from(
      { length: cfg.readReplicas },
      (_, i) =>
        new digitalocean.DatabaseReplica(
          `${clusterName}-replica-${i + 1}`,
          {
            clusterId: cluster.id,
            name: `${clusterName}-replica-${i + 1}`,
            size: cfg.replicaSize ?? cfg.size,
            region: args.region,
            privateNetworkUuid: args.vpcId,
            tags: [args.prefix],
          },
          { parent: this },
        ),
    );
    // A read replica is a cluster of its own behind its own trusted sources: the primary's firewall does not cover it.
    // Its DatabaseFirewall takes the replica's uuid as cluster id (terraform-provider-digitalocean@
    // 401992a1e493a0e3cfc833197820867991fc011f:docs/resources/database_firewall.md, "Create a new database firewall for a
    // database replica").
    replicas.forEach(
      (replica, i) =>
        new digitalocean.DatabaseFirewall(
          `${clusterName}-replica-${i + 1}-firewall`,
          { clusterId: replica.uuid, rules: [{ type: "k8s", value: args.kubernetesClusterId }] },
          { parent: this },
        ),
    );
    this.clusterId = cluster.id;
    this.clusterUrn = cluster.clusterUrn;
    this.privateHost = cluster.privateHost;
    this.caCertificate = caCertificate;
    this.poolUrl = pulumi.secret(
      pulumi
        .all([user.name, user.password, pool.privateHost, pool.port, pool.name])
        .apply(([u, password, host, port, database]) => postgresUrl({ user: u, password, host, port, database })),
    );
    this.replicaUrls = pulumi.secret(
      pulumi
        .all([user.name, user.password, db.name, pulumi.all(replicas.map((r) => pulumi.all([r.privateHost, r.port])))])
        .apply(([u, password, database, hosts]) => hosts.map(([host, port]) => postgresUrl({ user: u, password, host, port, database }))),
    );
    this.appLogin = pulumi.secret(
      pulumi.all([user.name, user.password, db.name]).apply(([u, password, database]) => ({ user: u, password, database })),
    );
    this.registerOutputs({
      clusterId: this.clusterId,
      privateHost: this.privateHost,
      poolUrl: this.poolUrl,
      replicaUrls: this.replicaUrls,
    });
  }
}
