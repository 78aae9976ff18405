import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { postgresUrl } from "./postgres";

/** Arguments of {@link StandbyDatabase}. */
export interface StandbyDatabaseArgs {
  /** Name prefix of the primary's resources, e.g. `gomeet-prod` (the node is named `<prefix>-pg-<region>`). */
  prefix: string;
  /** The standby region, where the node lives. */
  region: string;
  /** The primary PostgreSQL cluster it replicates from. */
  primaryClusterId: pulumi.Input<string>;
  /** Node size (the primary's: after promotion it carries the whole load). */
  size: string;
  /** The standby region's VPC and the only client its firewall admits: the standby region's Kubernetes cluster. */
  vpcId: pulumi.Input<string>;
  kubernetesClusterId: pulumi.Input<string>;
  /** The app user's login on the primary (roles replicate, so it is valid on the node too). */
  appLogin: pulumi.Input<{ user: string; password: string; database: string }>;
}

/** The name DigitalOcean knows the cross-region node by (the promote call and the failover controller use it). */
export function standbyDatabaseName(prefix: string, region: string): string {
  return `${prefix}-pg-${region}`;
}

/**
 * The cross-region read-only node: a `DatabaseReplica` of the primary cluster in the standby region, on the standby
 * VPC, behind its own firewall that admits only the standby Kubernetes cluster (a replica is a cluster of its own
 * behind its own trusted sources: terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
 * docs/resources/database_firewall.md, "Create a new database firewall for a database replica"). The standby apps
 * read from it; writes fail there (read-only) until the failover promotes it (PUT
 * /v2/databases/{uuid}/replicas/{name}/promote, digitalocean/openapi@7c1300c479fed9c353cda9fc21cd968619552304:
 * specification/resources/databases/databases_promote_replica.yml), and the same host then takes them.
 *
 * `retainOnDelete`: once promoted the node is a cluster of its own, which the stack then declares as the primary
 * (docs/runbooks.md, "Reconcile"); dropping the replica from the program must only forget it, never call DELETE.
 */
export class StandbyDatabase extends pulumi.ComponentResource {
  /** The node's uuid (its firewall and alerts use it) and its DigitalOcean name. */
  readonly uuid: pulumi.Output<string>;
  readonly name: pulumi.Output<string>;
  /** The app's URL on the node, TLS verified (secret). No pool: DigitalOcean pools live on the primary cluster. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: StandbyDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:StandbyDatabase", name, {}, opts);
    const nodeName = standbyDatabaseName(args.prefix, args.region);
    const replica = new digitalocean.DatabaseReplica(
      nodeName,
      {
        clusterId: args.primaryClusterId,
        name: nodeName,
        size: args.size,
        region: args.region,
        privateNetworkUuid: args.vpcId,
        tags: [args.prefix],
      },
      { parent: this, retainOnDelete: true },
    );
    new digitalocean.DatabaseFirewall(
      `${nodeName}-firewall`,
      { clusterId: replica.uuid, rules: [{ type: "k8s", value: args.kubernetesClusterId }] },
      { parent: this },
    );
    this.uuid = replica.uuid;
    this.name = replica.name;
    this.url = pulumi.secret(
      pulumi
        .all([pulumi.output(args.appLogin), replica.privateHost, replica.port])
        .apply(([login, host, port]) => postgresUrl({ ...login, host, port })),
    );
    this.registerOutputs({ uuid: this.uuid, name: this.name });
  }
}
