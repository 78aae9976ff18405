/**
 * The app's monitoring objects as plain functions: the metrics Service (the app's own metrics port, which the
 * load-balanced Service does not carry), the ServiceMonitor that scrapes it, the PrometheusRule with the service's alerts and the Grafana
 * dashboard ConfigMap. Field names are those of the Prometheus Operator's CRDs (monitoring.coreos.com/v1,
 * validated in tests with @kubernetes-models/prometheus-operator).
 */
import type * as pulumi from "@pulumi/pulumi";
import { APP_JOB, prometheusRuleSpec, type AlertRuleSettings } from "./alert-rules";
import { appLabels } from "./app-manifests";
import { DASHBOARD_FILE, gomeetDashboard, type DashboardSettings } from "./grafana-dashboard";
import { GRAFANA_DASHBOARD_LABEL, MONITORING_NAMESPACE, MONITORING_RELEASE } from "./monitoring-chart";

/** Name of the metrics Service, its port, and the label the ServiceMonitor selects it by. */
export const METRICS_SERVICE = "gomeet-metrics";
export const METRICS_PORT_NAME = "metrics";
export const METRICS_LABEL = { "gomeet.dev/metrics": "true" } as const;
/** How often Prometheus scrapes the app in the stack. */
export const SCRAPE_INTERVAL = "15s";

/** `release: monitoring` as well: selected even if the chart's NilUsesHelmValues defaults come back. */
const releaseLabel = { release: MONITORING_RELEASE };

/**
 * A ClusterIP Service in front of the app's pods whose port is named `metrics` and targets the container's `metrics`
 * port (METRICS_PORT: /metrics and the detailed /readyz): the LoadBalancer Service carries the same pods but is
 * public, and its ports target `http` only. Its `app.kubernetes.io/name` label (`gomeet`) becomes the scrape job.
 */
export function metricsService(namespace: pulumi.Input<string>, metricsPort: number) {
  return {
    metadata: { name: METRICS_SERVICE, namespace, labels: { ...appLabels(), ...METRICS_LABEL } },
    spec: {
      type: "ClusterIP",
      selector: appLabels(),
      ports: [{ name: METRICS_PORT_NAME, port: metricsPort, targetPort: METRICS_PORT_NAME, protocol: "TCP" }],
    },
  };
}

/** The ServiceMonitor: every pod behind the metrics Service, `/metrics` on the `metrics` port, job `gomeet`. */
export function serviceMonitor(namespace: pulumi.Input<string>) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: APP_JOB, namespace, labels: { ...appLabels(), ...releaseLabel } },
    spec: {
      jobLabel: "app.kubernetes.io/name",
      selector: { matchLabels: { ...METRICS_LABEL } },
      namespaceSelector: { matchNames: [namespace] },
      endpoints: [{ port: METRICS_PORT_NAME, path: "/metrics", interval: SCRAPE_INTERVAL, scrapeTimeout: "10s" }],
    },
  };
}

/** The PrometheusRule with the service's alerts (the stack's `for:` durations: forScale 1). */
export function prometheusRule(namespace: pulumi.Input<string>, settings: Omit<AlertRuleSettings, "forScale">) {
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: APP_JOB, namespace, labels: { ...appLabels(), ...releaseLabel } },
    spec: prometheusRuleSpec({ ...settings, forScale: 1 }),
  };
}

/** The dashboard ConfigMap Grafana's sidecar loads. */
export function dashboardConfigMap(settings: DashboardSettings) {
  return {
    metadata: { name: "gomeet-dashboard", namespace: MONITORING_NAMESPACE, labels: { ...GRAFANA_DASHBOARD_LABEL } },
    data: { [DASHBOARD_FILE]: JSON.stringify(gomeetDashboard(settings), null, 1) },
  };
}
