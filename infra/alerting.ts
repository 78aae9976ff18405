import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import type { AlertsConfig } from "./config";

/** A database cluster to watch. */
export interface WatchedDatabase {
  /** Short label used in alert names, e.g. `postgres`. */
  label: string;
  clusterId: pulumi.Input<string>;
}

/** Arguments of {@link Alerting}. */
export interface AlertingArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  config: AlertsConfig;
  /** Tag carried by every Kubernetes worker droplet. */
  nodeTag: pulumi.Input<string>;
  /** The app's load balancer: its DigitalOcean id (from the Service's CCM annotation) and the Service. */
  loadBalancer: { id: pulumi.Input<string>; createdBy: pulumi.Resource };
  /** The stack's DigitalOcean region (the latency probe runs from the nearest uptime region). */
  region: string;
  databases: WatchedDatabase[];
  /** Public URL the uptime check probes (the readiness endpoint behind the load balancer). */
  endpointUrl: pulumi.Input<string>;
  /** Whether the endpoint is HTTPS (adds a certificate expiry alert). */
  tls: boolean;
}

/** A threshold alert definition. */
interface Threshold {
  key: string;
  type: string;
  compare: "GreaterThan" | "LessThan";
  value: number;
  description: string;
}

/** Node pool alerts: CPU, memory and disk of every worker. */
export const NODE_ALERTS: Threshold[] = [
  { key: "node-cpu", type: "v1/insights/droplet/cpu", compare: "GreaterThan", value: 80, description: "node CPU above 80%" },
  {
    key: "node-memory",
    type: "v1/insights/droplet/memory_utilization_percent",
    compare: "GreaterThan",
    value: 85,
    description: "node memory above 85%",
  },
  {
    key: "node-disk",
    type: "v1/insights/droplet/disk_utilization_percent",
    compare: "GreaterThan",
    value: 85,
    description: "node disk above 85%",
  },
];

/**
 * Load balancer alerts. Meanings from digitalocean/openapi@7c1300c479fed9c353cda9fc21cd968619552304:
 * specification/resources/monitoring/monitoring_create_alertPolicy.yml (the alert type table):
 * - `high_http_request_response_time_99p`, "alert on high 99th percentile http response time": the response-time
 *   target, measured where it means the app (at the load balancer, no internet path in it).
 * - `increase_in_http_error_rate_count_5xx`, "alert on the count of 5xx level http errors over 5m": more than
 *   `max5xxPer5m` 5xx responses in 5 minutes. Not `..._percentage_5xx` ("the percent increase of 5xx level http
 *   errors over 5m"): a percent *increase* fires when a near-zero error count ticks up, on a healthy stack.
 * - No `droplet_health` alert ("alert on Droplet health status changes", units undocumented): with
 *   externalTrafficPolicy Local a node without an app pod fails the health check by design (app-manifests.ts), so a
 *   healthy stack with more nodes than pods would page. Backend loss shows in the uptime check and the app's own
 *   readiness alerts (Prometheus).
 */
export function loadBalancerAlerts(responseTimeMs: number, max5xxPer5m: number): Threshold[] {
  return [
    {
      key: "lb-5xx",
      type: "v1/insights/lbaas/increase_in_http_error_rate_count_5xx",
      compare: "GreaterThan",
      value: max5xxPer5m,
      description: `more than ${max5xxPer5m} 5xx responses in 5 minutes`,
    },
    {
      key: "lb-p99",
      type: "v1/insights/lbaas/high_http_request_response_time_99p",
      compare: "GreaterThan",
      value: responseTimeMs,
      description: `p99 response time above ${responseTimeMs} ms`,
    },
  ];
}

/**
 * The uptime probe region nearest a DigitalOcean region (probe regions: us_east, us_west, eu_west, se_asia —
 * digitalocean/openapi@7c1300c479fed9c353cda9fc21cd968619552304:specification/resources/uptime/models/check.yml).
 * A latency threshold only means something from nearby: from se_asia a healthy nyc3 endpoint is a Pacific crossing away.
 */
export function nearestProbeRegion(region: string): "us_east" | "us_west" | "eu_west" | "se_asia" {
  if (/^sfo/.test(region)) return "us_west";
  if (/^(ams|lon|fra)/.test(region)) return "eu_west";
  if (/^(sgp|blr|syd)/.test(region)) return "se_asia";
  return "us_east"; // nyc*, tor1, atl1 and anything new in North America's east
}

/** Database alerts: CPU, memory and disk of each cluster. */
export const DATABASE_ALERTS: Threshold[] = [
  { key: "cpu", type: "v1/dbaas/alerts/cpu_alerts", compare: "GreaterThan", value: 80, description: "CPU above 80%" },
  { key: "memory", type: "v1/dbaas/alerts/memory_utilization_alerts", compare: "GreaterThan", value: 85, description: "memory above 85%" },
  { key: "disk", type: "v1/dbaas/alerts/disk_utilization_alerts", compare: "GreaterThan", value: 80, description: "disk above 80%" },
];

/** Minutes of downtime a month the uptime target allows (30-day month). */
export function downtimeBudgetMinutes(uptimeTargetPercent: number): number {
  return Math.round((1 - uptimeTargetPercent / 100) * 30 * 24 * 60 * 10) / 10;
}

/**
 * Alerting: monitor alerts on the nodes, the load balancer and each database cluster, and an uptime check
 * of the public endpoint from four regions with down, latency and (with TLS) certificate-expiry alerts.
 * Every alert goes to the configured emails and, when set, Slack.
 */
export class Alerting extends pulumi.ComponentResource {
  /** The uptime check of the endpoint from four regions (its state is a vantage point of the failover controller). */
  readonly uptimeCheckId: pulumi.Output<string>;

  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Alerting", name, {}, opts);
    const cfg = args.config;
    const slacks = cfg.slack ? [{ channel: cfg.slack.channel, url: cfg.slack.webhookUrl }] : [];
    const monitor = (
      key: string,
      t: Threshold,
      target: { tags?: pulumi.Input<string>[]; entities?: pulumi.Input<string>[] },
      dependsOn: pulumi.Resource[] = [],
    ) =>
      new digitalocean.MonitorAlert(
        `${args.prefix}-${key}`,
        {
          type: t.type,
          compare: t.compare,
          value: t.value,
          window: "5m",
          description: `${args.prefix}: ${t.description}`,
          enabled: true,
          alerts: { emails: cfg.emails, slacks },
          ...target,
        },
        { parent: this, dependsOn },
      );

    for (const t of NODE_ALERTS) monitor(t.key, t, { tags: [args.nodeTag] });

    const lbAlerts = loadBalancerAlerts(cfg.responseTimeMs, cfg.max5xxPer5m);
    for (const t of lbAlerts) monitor(t.key, t, { entities: [args.loadBalancer.id] }, [args.loadBalancer.createdBy]);

    for (const db of args.databases) {
      for (const t of DATABASE_ALERTS) {
        monitor(`${db.label}-${t.key}`, { ...t, description: `${db.label} ${t.description}` }, { entities: [db.clusterId] });
      }
    }

    // Availability from four regions: down_global fires only when every region sees the endpoint down, so one probe
    // region's own network trouble does not page anyone (openapi uptime/models/alert.yml: down, down_global).
    const check = new digitalocean.UptimeCheck(
      `${args.prefix}-uptime`,
      {
        name: `${args.prefix}-readyz`,
        target: args.endpointUrl,
        type: args.tls ? "https" : "http",
        regions: ["us_east", "us_west", "eu_west", "se_asia"],
        enabled: true,
      },
      { parent: this },
    );
    // Latency from the nearest region only, against its own threshold: the probe's time includes the internet path and
    // (with TLS) the handshake, so it is not the app's response time (that is lb-p99 above).
    const latencyCheck = new digitalocean.UptimeCheck(
      `${args.prefix}-uptime-latency`,
      {
        name: `${args.prefix}-readyz-latency`,
        target: args.endpointUrl,
        type: args.tls ? "https" : "http",
        regions: [nearestProbeRegion(args.region)],
        enabled: true,
      },
      { parent: this },
    );
    const notifications = [{ emails: cfg.emails, slacks }];
    const uptimeAlert = (
      key: string,
      on: digitalocean.UptimeCheck,
      a: Omit<digitalocean.UptimeAlertArgs, "checkId" | "notifications" | "name">,
    ) =>
      new digitalocean.UptimeAlert(
        `${args.prefix}-${key}`,
        { checkId: on.id, name: `${args.prefix}-${key}`, notifications, ...a },
        { parent: this },
      );
    uptimeAlert("down", check, { type: "down_global", period: "2m" });
    uptimeAlert("latency", latencyCheck, { type: "latency", comparison: "greater_than", threshold: cfg.uptimeLatencyMs, period: "5m" });
    // period is required by the API (openapi uptime/create_alert.yml; the provider facts' apiRequiredInputs). A 14-day
    // warning loses nothing by waiting an hour, and a probe that sees a stale certificate for minutes does not page.
    if (args.tls) uptimeAlert("ssl-expiry", check, { type: "ssl_expiry", threshold: 14, period: "1h" });

    this.uptimeCheckId = check.id;
    this.registerOutputs({ uptimeCheckId: check.id, downtimeBudgetMinutes: downtimeBudgetMinutes(cfg.uptimeTargetPercent) });
  }
}
