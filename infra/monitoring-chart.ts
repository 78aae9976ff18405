/**
 * kube-prometheus-stack: the pinned chart and its values, as plain functions of typed settings (the same
 * stack DigitalOcean's 1-click monitoring installs). Every key below is cited from the chart's sources:
 *
 *   prometheus-community/helm-charts @ cf408a290aec489277a94450bb3511432477a53a
 *     charts/kube-prometheus-stack/Chart.yaml    version 88.5.3 (appVersion v0.93.1, kubeVersion >=1.25.0-0;
 *                                                 subcharts kube-state-metrics 8.4.0, prometheus-node-exporter 4.56.1,
 *                                                 grafana 12.11.1)
 *     charts/kube-prometheus-stack/values.yaml   alertmanager.alertmanagerSpec.{useExistingSecret, configSecret, retention,
 *                                                 resources, storage}; prometheus.prometheusSpec.{retention, retentionSize,
 *                                                 resources, storageSpec, serviceMonitorSelectorNilUsesHelmValues,
 *                                                 ruleSelectorNilUsesHelmValues}; prometheusOperator.resources;
 *                                                 grafana.{admin.existingSecret, sidecar.dashboards.{label, labelValue,
 *                                                 searchNamespace}}; kubeScheduler/kubeEtcd/kubeControllerManager/
 *                                                 kubeProxy.enabled; defaultRules.rules.{etcd, kubeSchedulerAlerting,
 *                                                 kubeSchedulerRecording, kubeControllerManager, kubeProxy}
 *     charts/kube-prometheus-stack/templates/exporters/kube-proxy/service.yaml        only `if .Values.kubeProxy.enabled`
 *     charts/kube-prometheus-stack/templates/prometheus/rules-1.14/kubernetes-system-kube-proxy.yaml   KubeProxyDown
 *                                                 (critical) only if kubeProxy.enabled and defaultRules.rules.kubeProxy
 *     charts/kube-prometheus-stack/templates/alertmanager/secret.yaml   no chart Secret when useExistingSecret is true
 *     charts/kube-prometheus-stack/templates/prometheus/prometheus.yaml NilUsesHelmValues true = select `release: <name>` only
 *     charts/kube-state-metrics/values.yaml, charts/prometheus-node-exporter/values.yaml   resources
 *   grafana-community/helm-charts @ 3386a1156177c6bcd7fdb1ad4c6b1dda094296e0
 *     charts/grafana/values.yaml (version 12.11.1)  resources, persistence.enabled, admin.existingSecret/userKey/passwordKey
 *   digitalocean/marketplace-kubernetes @ 27df259aa07f6ea11497f30c9b04d6c691ddc825
 *     stacks/kube-prometheus-stack/values.yml    DigitalOcean's 1-click: storageClassName do-block-storage; kubeScheduler and
 *                                                 kubeEtcd disabled ("managed by DOKS, so metrics are not accessible")
 */
import type { MonitoringConfig } from "./config";

/** The pinned chart. */
export const KUBE_PROMETHEUS_STACK = {
  chart: "kube-prometheus-stack",
  version: "88.5.3",
  repo: "https://prometheus-community.github.io/helm-charts",
} as const;

/** Namespace and Helm release name of the monitoring stack. */
export const MONITORING_NAMESPACE = "monitoring";
export const MONITORING_RELEASE = "monitoring";

/** Label and value Grafana's dashboard sidecar looks for on ConfigMaps (the chart's defaults, set explicitly). */
export const GRAFANA_DASHBOARD_LABEL = { grafana_dashboard: "1" } as const;

/** The same label as the sidecar's `label` / `labelValue` pair (one source for both). */
const [[DASHBOARD_LABEL_KEY, DASHBOARD_LABEL_VALUE]] = Object.entries(GRAFANA_DASHBOARD_LABEL) as [[string, string]];

/** DigitalOcean's block storage class (what the 1-click install uses). */
export const STORAGE_CLASS = "do-block-storage";

/** Secrets the release reads instead of rendering its own (their contents come from Pulumi secrets). */
export interface MonitoringSecretNames {
  /** Holds `alertmanager.yaml`. */
  alertmanagerConfig: string;
  /** Holds `admin-user` and `admin-password` for Grafana. */
  grafanaAdmin: string;
}

type Resources = { requests: { cpu: string; memory: string }; limits: { cpu: string; memory: string } };
const resources = (cpu: string, memory: string, cpuLimit: string, memoryLimit: string): Resources => ({
  requests: { cpu, memory },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

/** Bounded resources of every component (requests = what the scheduler reserves; limits cap a runaway). */
export const MONITORING_RESOURCES = {
  prometheus: resources("500m", "2Gi", "2", "4Gi"),
  alertmanager: resources("50m", "64Mi", "200m", "256Mi"),
  operator: resources("100m", "128Mi", "500m", "256Mi"),
  grafana: resources("100m", "256Mi", "500m", "512Mi"),
  kubeStateMetrics: resources("50m", "128Mi", "200m", "256Mi"),
  nodeExporter: resources("50m", "32Mi", "200m", "64Mi"),
} as const;

/** Alertmanager keeps silences and notification state this long. */
export const ALERTMANAGER_RETENTION = "120h";

/** The release's values. */
export function monitoringValues(config: MonitoringConfig, secrets: MonitoringSecretNames): Record<string, unknown> {
  const volumeClaim = (storage: string) => ({
    volumeClaimTemplate: {
      spec: { storageClassName: STORAGE_CLASS, accessModes: ["ReadWriteOnce"], resources: { requests: { storage } } },
    },
  });
  return {
    alertmanager: {
      alertmanagerSpec: {
        // The config (with the Slack webhook and SMTP password) lives in a Secret built from Pulumi secrets.
        useExistingSecret: true,
        configSecret: secrets.alertmanagerConfig,
        retention: ALERTMANAGER_RETENTION,
        resources: MONITORING_RESOURCES.alertmanager,
        storage: volumeClaim("1Gi"),
      },
    },
    prometheus: {
      prometheusSpec: {
        retention: config.retention,
        retentionSize: config.retentionSize,
        resources: MONITORING_RESOURCES.prometheus,
        storageSpec: volumeClaim(config.storageSize),
        // Select every ServiceMonitor and PrometheusRule, not only those labelled `release: monitoring`.
        serviceMonitorSelectorNilUsesHelmValues: false,
        ruleSelectorNilUsesHelmValues: false,
      },
    },
    prometheusOperator: { resources: MONITORING_RESOURCES.operator },
    grafana: {
      admin: { existingSecret: secrets.grafanaAdmin, userKey: "admin-user", passwordKey: "admin-password" },
      resources: MONITORING_RESOURCES.grafana,
      persistence: { enabled: false }, // dashboards come from ConfigMaps, data from Prometheus: nothing to keep
      sidecar: {
        dashboards: {
          enabled: true,
          label: DASHBOARD_LABEL_KEY,
          labelValue: DASHBOARD_LABEL_VALUE,
          searchNamespace: "ALL",
        },
      },
    },
    "kube-state-metrics": { resources: MONITORING_RESOURCES.kubeStateMetrics },
    "prometheus-node-exporter": { resources: MONITORING_RESOURCES.nodeExporter },
    // DOKS manages the control plane: its scheduler, etcd and controller manager cannot be scraped.
    kubeScheduler: { enabled: false },
    kubeEtcd: { enabled: false },
    kubeControllerManager: { enabled: false },
    // DOKS runs Cilium, which routes Services itself: there is no kube-proxy to scrape, and the chart's default
    // (kubeProxy.enabled true) would fire KubeProxyDown, severity critical, from the first evaluation on.
    kubeProxy: { enabled: false },
    defaultRules: {
      rules: { etcd: false, kubeSchedulerAlerting: false, kubeSchedulerRecording: false, kubeControllerManager: false, kubeProxy: false },
    },
  };
}
