/**
 * metrics-server, from its official Helm chart at a pinned version: the resource metrics API
 * (`metrics.k8s.io`) the app's HorizontalPodAutoscaler reads CPU from. DOKS does not install it, and without
 * it the autoscaler never acts.
 *
 * Chart facts: kubernetes-sigs/metrics-server@842dcc8c42f22cc19f10c7d5f2d32a9f4b6013b0 (tag
 * metrics-server-helm-chart-3.13.1), charts/metrics-server/Chart.yaml (version 3.13.1, appVersion 0.8.1) and
 * values.yaml (replicas 1, podDisruptionBudget off, `defaultArgs`, `affinity`, `updateStrategy`);
 * templates/_helpers.tpl (selector labels app.kubernetes.io/name + app.kubernetes.io/instance).
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";

/** The chart, pinned: a new version is a reviewed change to this file, not a surprise on the next deploy. */
export const METRICS_SERVER_CHART = {
  chart: "metrics-server",
  version: "3.13.1",
  repo: "https://kubernetes-sigs.github.io/metrics-server/",
} as const;

/** Namespace and release name (the release name is also the pods' `app.kubernetes.io/instance` label). */
export const METRICS_SERVER_NAMESPACE = "kube-system";
export const METRICS_SERVER_RELEASE = "metrics-server";

/**
 * Values over the chart's defaults:
 *
 * - Two replicas on different nodes (one on a one-node pool) with a disruption budget of one, as the project's high-availability
 *   manifest does (same commit, manifests/components/high-availability/patch.yaml and pdb.yaml): a node drain
 *   during a DOKS surge upgrade never leaves the autoscaler blind. DigitalOcean's own 1-click install runs 2
 *   replicas too (digitalocean/marketplace-kubernetes@79a92bca771de6d45b1d49037d1839cca00ec109,
 *   stacks/metrics-server/values.yml).
 * - `--kubelet-preferred-address-types=InternalIP`: the binary's own default tries Hostname first
 *   (README.md, "--kubelet-preferred-address-types ... default [Hostname,InternalDNS,InternalIP,...]"), and DOKS
 *   node names are not resolvable from pods. The chart's default list already starts with InternalIP; pinning
 *   InternalIP alone keeps kubelet scrapes on the VPC and never falls back to a node's public address.
 *   DigitalOcean's early 1-click added the same flag plus `--kubelet-insecure-tls` (same repository, commit
 *   3f12e4250acc62d1a8e69f6757fa2471369401b7, values.yml for metrics-server 0.3); its current values (since
 *   b287ba3cd851e376d75f77715aa0b596c30fb931, upstream chart) set neither, so kubelet TLS stays verified here.
 * - The other default arguments are kept as the chart has them.
 */
export function metricsServerValues(minNodes: number): Record<string, unknown> {
  if (!Number.isInteger(minNodes) || minNodes < 1) throw new Error(`metrics-server: minNodes must be a whole number ≥ 1, got ${minNodes}`);
  const selector = { "app.kubernetes.io/name": "metrics-server", "app.kubernetes.io/instance": METRICS_SERVER_RELEASE };
  // One per node: with a single node a second replica could never be scheduled and the release would never be ready.
  const ha = minNodes >= 2;
  return {
    replicas: ha ? 2 : 1,
    updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
    podDisruptionBudget: ha ? { enabled: true, minAvailable: 1 } : { enabled: false },
    affinity: {
      podAntiAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: [
          { labelSelector: { matchLabels: selector }, topologyKey: "kubernetes.io/hostname" },
        ],
      },
    },
    defaultArgs: [
      "--cert-dir=/tmp",
      "--kubelet-preferred-address-types=InternalIP",
      "--kubelet-use-node-status-port",
      "--metric-resolution=15s",
    ],
  };
}

/** Arguments of {@link MetricsServer}. */
export interface MetricsServerArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  /** Provider of the cluster to install into. */
  provider: k8s.Provider;
  /** The node pool's floor: two replicas on different nodes need at least two. */
  minNodes: number;
}

/** metrics-server as a Helm release into `kube-system`, rolled back if it does not become ready. */
export class MetricsServer extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;

  constructor(name: string, args: MetricsServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:MetricsServer", name, {}, opts);
    this.release = new k8s.helm.v3.Release(
      `${args.prefix}-metrics-server`,
      {
        name: METRICS_SERVER_RELEASE,
        chart: METRICS_SERVER_CHART.chart,
        version: METRICS_SERVER_CHART.version,
        repositoryOpts: { repo: METRICS_SERVER_CHART.repo },
        namespace: METRICS_SERVER_NAMESPACE,
        values: metricsServerValues(args.minNodes),
        atomic: true,
        timeout: 600,
      },
      { parent: this, provider: args.provider },
    );
    this.registerOutputs({ releaseStatus: this.release.status });
  }
}
