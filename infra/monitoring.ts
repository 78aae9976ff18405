import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import { alertmanagerConfigYaml } from "./alertmanager-config";
import type { AlertsConfig, MonitoringConfig } from "./config";
import {
  KUBE_PROMETHEUS_STACK,
  MONITORING_NAMESPACE,
  MONITORING_RELEASE,
  monitoringValues,
  type MonitoringSecretNames,
} from "./monitoring-chart";
import { dashboardConfigMap, metricsService, prometheusRule, serviceMonitor } from "./monitoring-manifests";

/** Arguments of {@link Monitoring}. */
export interface MonitoringArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  /** Provider of the cluster to deploy into. */
  provider: k8s.Provider;
  config: MonitoringConfig;
  /** Where Alertmanager sends: the stack's emails (through its SMTP relay) and Slack (webhook secret). */
  alerts: AlertsConfig;
  /** Namespace of the app, where its metrics Service, ServiceMonitor and PrometheusRule go. */
  appNamespace: pulumi.Input<string>;
  /** Port the app's container serves /metrics on (its METRICS_PORT). */
  metricsPort: number;
  /** Ready instances below this raise GoMeetReplicasBelowFloor: the app's replicas. */
  haFloor: number;
  /** Fan-out p99 target in seconds. */
  fanoutP99Seconds: number;
  /** The standby region's replication-lag alert threshold (gomeet:standby.maxReplicationLagSeconds). */
  maxReplicationLagSeconds?: number;
  /** Resources the app's monitoring objects wait for (the app's namespace and Deployment). */
  appResources: pulumi.Resource[];
}

/** Secret names the release reads. */
const SECRET_NAMES: MonitoringSecretNames = { alertmanagerConfig: "alertmanager-gomeet", grafanaAdmin: "grafana-admin" };

/**
 * Monitoring of the service: kube-prometheus-stack (pinned Helm release: Prometheus, Alertmanager, Grafana,
 * kube-state-metrics, node-exporter) with bounded retention and resources; Alertmanager's config as a Secret built
 * from the stack's secrets; the app's metrics Service, ServiceMonitor and PrometheusRule; the service dashboard.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** Name of the Helm release (and of its namespace). */
  readonly releaseName: pulumi.Output<string>;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Monitoring", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(`${args.prefix}-monitoring-ns`, { metadata: { name: MONITORING_NAMESPACE } }, child);
    const ns = namespace.metadata.name;

    const alerts = args.alerts;
    const config = pulumi.all([alerts.slack?.webhookUrl, alerts.smtp.password]).apply(([webhookUrl, password]) =>
      alertmanagerConfigYaml({
        emails: alerts.emails,
        smtp: { smarthost: alerts.smtp.smarthost, from: alerts.smtp.from, username: alerts.smtp.username, password },
        slack: alerts.slack && webhookUrl !== undefined ? { channel: alerts.slack.channel, webhookUrl } : undefined,
      }),
    );
    const alertmanagerSecret = new k8s.core.v1.Secret(
      `${args.prefix}-alertmanager-config`,
      {
        metadata: { name: SECRET_NAMES.alertmanagerConfig, namespace: ns },
        type: "Opaque",
        stringData: { "alertmanager.yaml": pulumi.secret(config) },
      },
      child,
    );

    const grafanaPassword = new random.RandomPassword(
      `${args.prefix}-grafana-admin-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const grafanaSecret = new k8s.core.v1.Secret(
      `${args.prefix}-grafana-admin`,
      {
        metadata: { name: SECRET_NAMES.grafanaAdmin, namespace: ns },
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": pulumi.secret(grafanaPassword.result) },
      },
      child,
    );

    const release = new k8s.helm.v3.Release(
      `${args.prefix}-monitoring`,
      {
        name: MONITORING_RELEASE,
        chart: KUBE_PROMETHEUS_STACK.chart,
        version: KUBE_PROMETHEUS_STACK.version,
        repositoryOpts: { repo: KUBE_PROMETHEUS_STACK.repo },
        namespace: ns,
        values: monitoringValues(args.config, SECRET_NAMES),
        timeout: 900,
        atomic: true,
      },
      { ...child, dependsOn: [alertmanagerSecret, grafanaSecret] },
    );

    // The CRDs (ServiceMonitor, PrometheusRule) come with the release.
    const afterRelease = { ...child, dependsOn: [release, ...args.appResources] };
    const app = args.appNamespace;
    new k8s.core.v1.Service(`${args.prefix}-metrics-service`, metricsService(app, args.metricsPort), {
      ...child,
      dependsOn: args.appResources,
    });
    new k8s.apiextensions.CustomResource(`${args.prefix}-service-monitor`, serviceMonitor(app), afterRelease);
    const ruleSettings = {
      haFloor: args.haFloor,
      fanoutP99Seconds: args.fanoutP99Seconds,
      runbookBaseUrl: args.config.runbookBaseUrl,
      maxReplicationLagSeconds: args.maxReplicationLagSeconds,
    };
    new k8s.apiextensions.CustomResource(`${args.prefix}-prometheus-rule`, prometheusRule(app, ruleSettings), afterRelease);
    new k8s.core.v1.ConfigMap(
      `${args.prefix}-dashboard`,
      dashboardConfigMap({ haFloor: args.haFloor, fanoutP99Seconds: args.fanoutP99Seconds }),
      { ...child, dependsOn: [namespace] },
    );

    this.releaseName = release.name;
    this.registerOutputs({ releaseName: this.releaseName });
  }
}
