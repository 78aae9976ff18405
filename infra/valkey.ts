import * as pulumi from "@pulumi/pulumi";
import type { ValkeyConfig } from "./config";
import { managedDatabase, type DatabasePlacement } from "./managed-database";

/** Arguments of {@link Valkey}. */
export interface ValkeyArgs extends DatabasePlacement {
  config: ValkeyConfig;
}

/**
 * Managed Valkey (DigitalOcean's Redis successor) with a standby node, `noeviction` so room state is never
 * silently dropped under memory pressure, and a firewall that admits only Kubernetes.
 */
export class Valkey extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  readonly clusterUrn: pulumi.Output<string>;
  readonly privateHost: pulumi.Output<string>;
  /** DigitalOcean's CA certificate (PEM) that signs the cluster's server certificates. */
  readonly caCertificate: pulumi.Output<string>;
  /** `rediss://` URL on the private network (secret). */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ValkeyArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Valkey", name, {}, opts);
    const { config: cfg, ...placement } = args;
    const { cluster, caCertificate } = managedDatabase(
      {
        ...placement,
        name: `${args.prefix}-valkey`,
        engine: "valkey",
        version: cfg.version,
        size: cfg.size,
        nodeCount: cfg.nodeCount,
        maintenance: cfg.maintenance,
        extra: { evictionPolicy: cfg.evictionPolicy },
      },
      this,
    );
    this.clusterId = cluster.id;
    this.clusterUrn = cluster.clusterUrn;
    this.privateHost = cluster.privateHost;
    this.caCertificate = caCertificate;
    this.url = pulumi.secret(cluster.privateUri);
    this.registerOutputs({ clusterId: this.clusterId, privateHost: this.privateHost, url: this.url });
  }
}
