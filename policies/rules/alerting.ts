/**
 * Rule 8 (stack check): someone hears about a failing tier. Monitor alerts watch the nodes, every load
 * balancer and every database cluster; an uptime check has a `down_global` alert and every other check some alert; every alert
 * notifies someone (email or Slack). The service's own signals count too: every Deployment is scraped (a
 * ServiceMonitor selects a Service in front of its pods, by one of that Service's port names) and has
 * alerting rules (a PrometheusRule with at least one `alert` in its namespace).
 *
 * Alerts are related to what they watch through the dependency graph: in a preview of a new stack the
 * entity IDs they name are unknown.
 */
import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import type { PolicyResource, ReportViolation, StackValidationPolicy } from "@pulumi/policy";
import { TYPE } from "../../infra/type-tokens";
import { isLoadBalancerService } from "./load-balancer";
import { namespaceOf, podLabelsOf, sameNamespace, selectorMatches } from "./kubernetes-objects";
import { UNKNOWN, describe, field, list, message, readOrUnknown, record, stringMap, subject, text } from "./props";
import { dependentsOf } from "./relations";
import { configSchemaOf, readSettings, stringListSetting } from "./settings";

/** Monitor alert type prefixes of each watched tier. */
export const ALERT_TYPE_PREFIX = {
  nodes: "v1/insights/droplet/",
  loadBalancer: "v1/insights/lbaas/",
  database: "v1/dbaas/",
} as const;

const alertingSettings = {
  nodeAlertTypes: stringListSetting(
    ["v1/insights/droplet/cpu", "v1/insights/droplet/memory_utilization_percent", "v1/insights/droplet/disk_utilization_percent"],
    "Monitor alert types required on the Kubernetes nodes.",
  ),
  databaseAlertTypes: stringListSetting(
    ["v1/dbaas/alerts/cpu_alerts", "v1/dbaas/alerts/memory_utilization_alerts", "v1/dbaas/alerts/disk_utilization_alerts"],
    "Monitor alert types required on each database cluster.",
  ),
};

/** Whether a list property holds at least one non-empty entry. */
function hasEntries(value: unknown): boolean {
  return list(value).some((entry) => entry !== null && entry !== undefined && entry !== "");
}

function alertTypeOf(alert: PolicyResource): string {
  return text(alert.props.type) ?? "";
}

function missingTypes(required: readonly string[], alerts: readonly PolicyResource[]): string[] {
  const present = new Set(alerts.map(alertTypeOf));
  return required.filter((type) => !present.has(type));
}

function checkNodes(
  resources: readonly PolicyResource[],
  alerts: readonly PolicyResource[],
  required: string[],
  report: ReportViolation,
): void {
  const nodeAlerts = alerts.filter((a) => alertTypeOf(a).startsWith(ALERT_TYPE_PREFIX.nodes));
  const missing = missingTypes(required, nodeAlerts);
  if (missing.length === 0) return;
  const cluster = resources.find((r) => r.isType(digitalocean.KubernetesCluster));
  report(
    message({
      resource: cluster ? `${subject(cluster.type, cluster.name)} nodes` : "Kubernetes nodes",
      property: "MonitorAlert types on the nodes",
      found: describe(nodeAlerts.map(alertTypeOf)),
      required: `${required.join(", ")} (missing: ${missing.join(", ")})`,
      reason: "A node running out of CPU, memory or disk takes its pods down with it.",
    }),
    cluster?.urn,
  );
}

function checkLoadBalancers(resources: readonly PolicyResource[], alerts: readonly PolicyResource[], report: ReportViolation): void {
  const lbAlerts = alerts.filter((a) => alertTypeOf(a).startsWith(ALERT_TYPE_PREFIX.loadBalancer));
  const services = resources.filter((r) => r.isType(k8s.core.v1.Service) && isLoadBalancerService(r.props));
  for (const service of services) {
    if (dependentsOf(service, lbAlerts).length > 0) continue;
    report(
      message({
        resource: subject(service.type, service.name),
        property: `MonitorAlert (${ALERT_TYPE_PREFIX.loadBalancer}*) depending on it`,
        found: "none",
        required: "at least one load balancer alert (e.g. backend health, 5xx rate, p99 latency)",
        reason: "Unhealthy backends and error spikes at the entry point otherwise go unnoticed.",
      }),
      service.urn,
    );
  }
}

function checkDatabases(
  resources: readonly PolicyResource[],
  alerts: readonly PolicyResource[],
  required: string[],
  report: ReportViolation,
): void {
  const dbAlerts = alerts.filter((a) => alertTypeOf(a).startsWith(ALERT_TYPE_PREFIX.database));
  for (const cluster of resources.filter((r) => r.isType(digitalocean.DatabaseCluster))) {
    const watching = dependentsOf(cluster, dbAlerts);
    const missing = missingTypes(required, watching);
    if (missing.length === 0) continue;
    report(
      message({
        resource: subject(cluster.type, cluster.name),
        property: "MonitorAlert types depending on the cluster",
        found: describe(watching.map(alertTypeOf)),
        required: `${required.join(", ")} (missing: ${missing.join(", ")})`,
        reason: "A database that fills its disk or memory stops every tier that needs it.",
      }),
      cluster.urn,
    );
  }
}

function checkUptime(resources: readonly PolicyResource[], report: ReportViolation): void {
  const checks = resources.filter((r) => r.isType(digitalocean.UptimeCheck) && r.props.enabled !== false);
  const uptimeAlerts = resources.filter((r) => r.isType(digitalocean.UptimeAlert));
  if (checks.length === 0) {
    report(
      message({
        resource: "Stack",
        property: "enabled UptimeCheck resources",
        found: "none",
        required: "an uptime check of the public endpoint with a down_global alert",
        reason: "Only an outside probe notices that the whole service is unreachable.",
      }),
    );
    return;
  }
  const isDownGlobal = (a: PolicyResource) => a.props.type === "down_global";
  const covered = checks.some((c) => dependentsOf(c, uptimeAlerts).some(isDownGlobal));
  for (const check of checks) {
    const alerts = dependentsOf(check, uptimeAlerts);
    if (alerts.some(isDownGlobal)) continue;
    // A second check for another purpose (latency from the nearest region) needs an alert, not its own down_global.
    if (covered && alerts.length > 0) continue;
    report(
      message({
        resource: subject(check.type, check.name),
        property: "UptimeAlert types depending on the check",
        found: describe(alerts.map((a) => text(a.props.type) ?? "")),
        required: 'an UptimeAlert of type "down_global"',
        reason: "Without it the check records the outage and tells nobody.",
      }),
      check.urn,
    );
  }
}

function checkNotificationTargets(resources: readonly PolicyResource[], report: ReportViolation): void {
  for (const alert of resources.filter((r) => r.isType(digitalocean.MonitorAlert))) {
    const alerts = record(alert.props.alerts);
    if (hasEntries(alerts?.emails) || hasEntries(alerts?.slacks)) continue;
    report(
      message({
        resource: subject(alert.type, alert.name),
        property: "alerts.emails / alerts.slacks",
        found: describe(alert.props.alerts),
        required: "at least one email address or Slack channel",
        reason: "An alert without a target fires into the void.",
      }),
      alert.urn,
    );
  }
  for (const alert of resources.filter((r) => r.isType(digitalocean.UptimeAlert))) {
    const notified = list(alert.props.notifications).some((item) => {
      const notification = record(item);
      return hasEntries(notification?.emails) || hasEntries(notification?.slacks);
    });
    if (notified) continue;
    report(
      message({
        resource: subject(alert.type, alert.name),
        property: "notifications",
        found: describe(alert.props.notifications),
        required: "at least one entry with an email address or a Slack channel",
        reason: "An alert without a target fires into the void.",
      }),
      alert.urn,
    );
  }
}

/** Prometheus Operator resource types (kube-prometheus-stack installs their CRDs). */
export const SERVICE_MONITOR_TYPE = TYPE.serviceMonitor;
export const PROMETHEUS_RULE_TYPE = TYPE.prometheusRule;

/** Whether a Service's selector picks pods with these labels (an empty selector picks none we can tell). */
function serviceFronts(service: PolicyResource, podLabels: Record<string, string>): boolean {
  const selector = stringMap(field(service.props, "spec", "selector"));
  return Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => podLabels[key] === value);
}

/** Whether a ServiceMonitor looks in the Service's namespace (its `namespaceSelector`, else its own namespace). */
function monitorsNamespaceOf(monitor: PolicyResource, service: PolicyResource): boolean {
  const selector = record(field(monitor.props, "spec", "namespaceSelector"));
  if (selector?.any === true) return true;
  const target = namespaceOf(service.props);
  const names = readOrUnknown(() => list(selector?.matchNames));
  if (names === UNKNOWN || target === UNKNOWN) return true;
  if (names.length > 0) return names.some((name) => name === target || readOrUnknown(() => text(name)) === UNKNOWN);
  return sameNamespace(monitor.props, service.props);
}

/** Whether the ServiceMonitor scrapes the Service: selects its labels and names one of its ports. */
function scrapes(monitor: PolicyResource, service: PolicyResource): boolean {
  if (!monitorsNamespaceOf(monitor, service)) return false;
  if (!selectorMatches(field(monitor.props, "spec", "selector"), stringMap(field(service.props, "metadata", "labels")))) return false;
  const ports = list(field(service.props, "spec", "ports")).map((port) => text(record(port)?.name));
  const endpoints = list(field(monitor.props, "spec", "endpoints")).map((endpoint) => text(record(endpoint)?.port));
  return endpoints.some((port) => port !== undefined && ports.includes(port));
}

/** Alerting rules (`alert:`) of a PrometheusRule. */
function alertingRules(rule: PolicyResource): number {
  return list(field(rule.props, "spec", "groups")).reduce<number>(
    (count, group) => count + list(record(group)?.rules).filter((r) => text(record(r)?.alert) !== undefined).length,
    0,
  );
}

function checkServiceSignals(resources: readonly PolicyResource[], report: ReportViolation): void {
  const services = resources.filter((r) => r.isType(k8s.core.v1.Service));
  const monitors = resources.filter((r) => r.type === SERVICE_MONITOR_TYPE);
  const rules = resources.filter((r) => r.type === PROMETHEUS_RULE_TYPE);
  for (const deployment of resources.filter((r) => r.isType(k8s.apps.v1.Deployment))) {
    const labels = podLabelsOf(deployment.props);
    const fronting = services.filter((s) => sameNamespace(s.props, deployment.props) && serviceFronts(s, labels));
    if (!monitors.some((monitor) => fronting.some((service) => scrapes(monitor, service)))) {
      report(
        message({
          resource: subject(deployment.type, deployment.name),
          property: "ServiceMonitor scraping its pods",
          found:
            monitors.length === 0
              ? "none in the plan"
              : `none of ${monitors.map((m) => subject(m.type, m.name)).join(", ")} selects a Service in front of them`,
          required: "a ServiceMonitor that selects a Service in front of its pods and names one of that Service's ports",
          reason:
            "Unscraped, the service's own signals (readiness, fan-out latency, dependencies) never reach Prometheus and its alerts cannot fire.",
        }),
        deployment.urn,
      );
    }
    const alerting = rules.filter((rule) => sameNamespace(rule.props, deployment.props));
    if (alerting.some((rule) => alertingRules(rule) > 0)) continue;
    report(
      message({
        resource: subject(deployment.type, deployment.name),
        property: "PrometheusRule alerting rules in its namespace",
        found: alerting.length === 0 ? "none" : `${alerting.map((r) => subject(r.type, r.name)).join(", ")} without an alerting rule`,
        required: "a PrometheusRule with at least one alert",
        reason: "Scraped metrics that no rule watches page nobody.",
      }),
      deployment.urn,
    );
  }
}

export const alertingCoverage: StackValidationPolicy = {
  name: "alerting-coverage",
  description:
    "Monitor alerts watch the nodes, every load balancer and every database; uptime checks alert on down_global; every alert notifies someone; " +
    "every Deployment is scraped by a ServiceMonitor and watched by a PrometheusRule.",
  configSchema: configSchemaOf(alertingSettings),
  validateStack: (args, reportViolation) => {
    const { nodeAlertTypes, databaseAlertTypes } = readSettings(args, alertingSettings);
    const enabledAlerts = args.resources.filter((r) => r.isType(digitalocean.MonitorAlert) && r.props.enabled !== false);
    checkNodes(args.resources, enabledAlerts, nodeAlertTypes, reportViolation);
    checkLoadBalancers(args.resources, enabledAlerts, reportViolation);
    checkDatabases(args.resources, enabledAlerts, databaseAlertTypes, reportViolation);
    checkUptime(args.resources, reportViolation);
    checkNotificationTargets(args.resources, reportViolation);
    checkServiceSignals(args.resources, reportViolation);
  },
};

/** Rule 8. */
export const alertingPolicies = [alertingCoverage];
