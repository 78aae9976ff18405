import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import type { KubernetesConfig } from "./config";

/** Arguments of {@link Kubernetes}. */
export interface KubernetesArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  region: string;
  /** VPC the nodes live in. */
  vpcId: pulumi.Input<string>;
  /** Node pool, version and maintenance settings. */
  config: KubernetesConfig;
}

/** The DOKS node pool as the cluster takes it: autoscaling between the configured floor and ceiling. */
export function nodePoolSpec(prefix: string, config: KubernetesConfig): digitalocean.types.input.KubernetesClusterNodePool {
  return {
    name: `${prefix}-pool`,
    size: config.nodeSize,
    autoScale: true,
    minNodes: config.minNodes,
    maxNodes: config.maxNodes,
    labels: { "gomeet.dev/pool": "app" },
  };
}

/**
 * An HA DOKS cluster (replicated control plane, autoscaling pool of at least `minNodes` nodes, surge
 * upgrades inside a maintenance window) and a Kubernetes provider bound to it.
 */
export class Kubernetes extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  /** DigitalOcean URN of the cluster, for the Project. */
  readonly clusterUrn: pulumi.Output<string>;
  /** Tag DOKS puts on every worker droplet of this cluster (`k8s:<cluster id>`), for monitor alerts. */
  readonly nodeTag: pulumi.Output<string>;
  /** Raw kubeconfig (secret). */
  readonly kubeconfig: pulumi.Output<string>;
  /** Provider that deploys into this cluster. */
  readonly provider: k8s.Provider;
  /** The resolved Kubernetes version, e.g. `1.33.1-do.0`. */
  readonly version: pulumi.Output<string>;

  constructor(name: string, args: KubernetesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Kubernetes", name, {}, opts);
    const versions = digitalocean.getKubernetesVersionsOutput({ versionPrefix: args.config.versionPrefix }, { parent: this });
    this.version = versions.latestVersion;
    const cluster = new digitalocean.KubernetesCluster(
      `${args.prefix}-doks`,
      {
        name: `${args.prefix}-doks`,
        region: args.region,
        version: this.version,
        vpcUuid: args.vpcId,
        ha: true,
        autoUpgrade: true,
        surgeUpgrade: true,
        registryIntegration: true,
        maintenancePolicy: { day: args.config.maintenanceDay, startTime: args.config.maintenanceStartTime },
        nodePool: nodePoolSpec(args.prefix, args.config),
        tags: [args.prefix],
      },
      // Auto-upgrades move the version within the prefix: do not fight them on every `pulumi up`.
      { parent: this, ignoreChanges: ["version"] },
    );
    this.clusterId = cluster.id;
    this.clusterUrn = cluster.clusterUrn;
    this.nodeTag = pulumi.interpolate`k8s:${cluster.id}`;
    this.kubeconfig = pulumi.secret(cluster.kubeConfigs.apply((configs) => configs?.[0]?.rawConfig ?? ""));
    this.provider = new k8s.Provider(
      `${args.prefix}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      { parent: this },
    );
    this.registerOutputs({ clusterId: this.clusterId, clusterUrn: this.clusterUrn, kubeconfig: this.kubeconfig });
  }
}
