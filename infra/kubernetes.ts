import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import type { KubernetesConfig } from "./config";
import {
  KUBECONFIG_EXPIRE_SECONDS,
  doctlKubeconfig,
  providerKubeconfig,
  tokenDirectory,
  tokenFilePath,
  writeTokenFile,
} from "./kubeconfig";
import type { ClusterEndpoint } from "./kubeconfig";

/** Arguments of {@link Kubernetes}. */
export interface KubernetesArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  region: string;
  /** VPC the nodes live in. */
  vpcId: pulumi.Input<string>;
  /** Node pool, version and maintenance settings. */
  config: KubernetesConfig;
  /** Directory for the provider's token file (default: {@link tokenDirectory}). */
  tokenDirectory?: string;
}

/** What the program reads from the `getKubernetesCluster` data source. */
export interface LiveCluster {
  name: string;
  kubeConfigs: { host: string; clusterCaCertificate: string; token: string }[];
}

/** The endpoint and the fresh token of a live cluster; a clear error when DigitalOcean returned no credentials. */
export function liveCredentials(live: LiveCluster): { endpoint: ClusterEndpoint; token: string } {
  const first = live.kubeConfigs?.[0];
  if (!first) throw new Error(`getKubernetesCluster(${live.name}): DigitalOcean returned no kubeconfig credentials`);
  return { endpoint: { name: live.name, server: first.host, caCertificate: first.clusterCaCertificate }, token: first.token };
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
 * upgrades inside a maintenance window) and a Kubernetes provider bound to it with credentials fetched on
 * every run (see ./kubeconfig.ts for why, and why the token lives in a file).
 *
 * The credentials come from the `getKubernetesCluster` data source, which depends on the cluster: the SDK and
 * the engine run such an invoke only once its dependencies exist (pulumi/pulumi#18152, #24040). So in a
 * preview where the cluster is created or replaced the kubeconfig is unknown (the provider is then created or
 * replaced with it, as it must be), and in a preview where the cluster already exists, even while it is being
 * updated in place, the kubeconfig is known and unchanged. An unknown kubeconfig is what makes
 * pulumi-kubernetes' DiffConfig plan a provider replacement, and with it a replacement of every object
 * deployed through it (pulumi/pulumi-kubernetes#577, #1148; DiffConfig in
 * pulumi/pulumi-kubernetes@010f5d8e95e3cc9a384442e8239310d51fdc052e, provider/pkg/provider/provider.go).
 * `clusterIdentifier` (the cluster's id) makes the provider's replacement follow the cluster's identity
 * alone (same file: a known, unchanged identifier clears every planned replacement).
 */
export class Kubernetes extends pulumi.ComponentResource {
  readonly clusterId: pulumi.Output<string>;
  /** DigitalOcean URN of the cluster, for the Project. */
  readonly clusterUrn: pulumi.Output<string>;
  /** Tag DOKS puts on every worker droplet of this cluster (`k8s:<cluster id>`), for monitor alerts. */
  readonly nodeTag: pulumi.Output<string>;
  /** Kubeconfig for people: no credential in it, `doctl` fetches one on each use (secret, as the data source's result is). */
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

    // A fresh token on every run (preview and up), valid for KUBECONFIG_EXPIRE_SECONDS.
    const live = digitalocean.getKubernetesClusterOutput(
      { name: cluster.name, kubeconfigExpireSeconds: KUBECONFIG_EXPIRE_SECONDS },
      { parent: this, dependsOn: [cluster] },
    );
    const credentials = live.apply(liveCredentials);
    const tokenDir = args.tokenDirectory ?? tokenDirectory();
    const kubeconfig = credentials.apply(({ endpoint, token }) =>
      providerKubeconfig(endpoint, writeTokenFile(tokenFilePath(tokenDir, endpoint.name), token)),
    );
    this.kubeconfig = pulumi.secret(pulumi.all([credentials, cluster.id]).apply(([c, id]) => doctlKubeconfig(c.endpoint, id)));
    this.provider = new k8s.Provider(
      `${args.prefix}-k8s`,
      { kubeconfig: pulumi.secret(kubeconfig), clusterIdentifier: cluster.id, enableServerSideApply: true },
      { parent: this },
    );
    this.registerOutputs({ clusterId: this.clusterId, clusterUrn: this.clusterUrn, kubeconfig: this.kubeconfig });
  }
}
