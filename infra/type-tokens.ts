/**
 * Pulumi type tokens of the resources the stack creates, read from the provider SDKs' classes (no
 * hand-written strings), for the policy pack and the offline preview; plus the tokens of the data
 * sources (invokes) the offline preview answers, which have no class to read them from.
 * Only providers the policy pack also depends on (policies/package.json) are imported here.
 */
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";

/**
 * The Pulumi type token of a provider resource class, e.g. `digitalocean:index/databaseCluster:DatabaseCluster`
 * (the generated classes carry it as a static `__pulumiType`, which their typings leave out).
 */
export function typeToken(resourceClass: abstract new (...args: never[]) => unknown): string {
  const token = (resourceClass as unknown as { __pulumiType?: unknown }).__pulumiType;
  if (typeof token !== "string" || token.length === 0) throw new Error(`${resourceClass.name} has no Pulumi type token`);
  return token;
}

/**
 * The type token of a Kubernetes custom resource (k8s.apiextensions.CustomResource), which has no SDK
 * class: the kubernetes provider names it `kubernetes:<apiVersion>:<kind>`.
 */
export function customResourceTypeToken(apiVersion: string, kind: string): string {
  return `kubernetes:${apiVersion}:${kind}`;
}

export const TYPE = {
  vpc: typeToken(digitalocean.Vpc),
  kubernetesCluster: typeToken(digitalocean.KubernetesCluster),
  databaseCluster: typeToken(digitalocean.DatabaseCluster),
  databaseDb: typeToken(digitalocean.DatabaseDb),
  databaseUser: typeToken(digitalocean.DatabaseUser),
  databaseReplica: typeToken(digitalocean.DatabaseReplica),
  databaseConnectionPool: typeToken(digitalocean.DatabaseConnectionPool),
  databaseFirewall: typeToken(digitalocean.DatabaseFirewall),
  certificate: typeToken(digitalocean.Certificate),
  dnsRecord: typeToken(digitalocean.DnsRecord),
  monitorAlert: typeToken(digitalocean.MonitorAlert),
  uptimeCheck: typeToken(digitalocean.UptimeCheck),
  uptimeAlert: typeToken(digitalocean.UptimeAlert),
  project: typeToken(digitalocean.Project),
  loadBalancer: typeToken(digitalocean.LoadBalancer),
  deployment: typeToken(k8s.apps.v1.Deployment),
  statefulSet: typeToken(k8s.apps.v1.StatefulSet),
  daemonSet: typeToken(k8s.apps.v1.DaemonSet),
  namespace: typeToken(k8s.core.v1.Namespace),
  service: typeToken(k8s.core.v1.Service),
  secret: typeToken(k8s.core.v1.Secret),
  podDisruptionBudget: typeToken(k8s.policy.v1.PodDisruptionBudget),
  horizontalPodAutoscaler: typeToken(k8s.autoscaling.v2.HorizontalPodAutoscaler),
  helmRelease: typeToken(k8s.helm.v3.Release),
  serviceMonitor: customResourceTypeToken("monitoring.coreos.com/v1", "ServiceMonitor"),
  prometheusRule: customResourceTypeToken("monitoring.coreos.com/v1", "PrometheusRule"),
  /** The kubernetes provider resource itself (`pulumi:providers:kubernetes`). */
  kubernetesProvider: `pulumi:providers:${typeToken(k8s.Provider)}`,
} as const;

/** Data source tokens (`digitalocean.get…` functions); the SDK exposes no class or constant for them. */
export const INVOKE = {
  kubernetesVersions: "digitalocean:index/getKubernetesVersions:getKubernetesVersions",
  kubernetesCluster: "digitalocean:index/getKubernetesCluster:getKubernetesCluster",
  databaseCa: "digitalocean:index/getDatabaseCa:getDatabaseCa",
} as const;
