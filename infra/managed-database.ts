import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";

/** Where a managed database lives and who may reach it: shared by the Postgres and Valkey components. */
export interface DatabasePlacement {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  region: string;
  /** VPC the cluster lives in. */
  vpcId: pulumi.Input<string>;
  /** The only client the firewall admits. */
  kubernetesClusterId: pulumi.Input<string>;
}

/** Arguments of {@link managedDatabase}. */
export interface ManagedDatabaseArgs extends DatabasePlacement {
  /** Cluster name, e.g. `gomeet-prod-pg`. */
  name: string;
  engine: "pg" | "valkey";
  version: string;
  size: string;
  /** Nodes: 2 or more means a hot standby that DigitalOcean promotes on failure. */
  nodeCount: number;
  maintenance: { day: string; hour: string };
  /** Engine-specific inputs (e.g. Valkey's eviction policy). */
  extra?: Partial<digitalocean.DatabaseClusterArgs>;
  /** Adopt the existing cluster with this id (named `name`) and its firewall instead of creating them. */
  importId?: string;
}

/**
 * A managed database cluster that is protected against deletion, private to the VPC, and firewalled
 * so that only the Kubernetes cluster can reach it; with the CA certificate its clients verify it against.
 */
export function managedDatabase(args: ManagedDatabaseArgs, parent: pulumi.Resource) {
  const cluster = new digitalocean.DatabaseCluster(
    args.name,
    {
      name: args.name,
      engine: args.engine,
      version: args.version,
      size: args.size,
      region: args.region,
      nodeCount: args.nodeCount,
      privateNetworkUuid: args.vpcId,
      maintenanceWindows: [{ day: args.maintenance.day, hour: `${args.maintenance.hour}:00` }],
      tags: [args.prefix],
      ...args.extra,
    },
    { parent, protect: true, ...(args.importId ? { import: args.importId } : {}) },
  );
  const firewall = new digitalocean.DatabaseFirewall(
    `${args.name}-firewall`,
    { clusterId: cluster.id, rules: [{ type: "k8s", value: args.kubernetesClusterId }] },
    { parent, ...(args.importId ? { import: args.importId } : {}) },
  );
  // The CA that signs the cluster's server certificates (PEM, "decoded to a string": pulumi/pulumi-digitalocean
  // @ c52e0a381c523576bfd0c2fc587b7d644bd390f6, provider/cmd/pulumi-resource-digitalocean/schema.json,
  // digitalocean:index/getDatabaseCa:getDatabaseCa); the app verifies the servers against it.
  const caCertificate = digitalocean.getDatabaseCaOutput({ clusterId: cluster.id }, { parent }).certificate;
  return { cluster, firewall, caCertificate };
}
