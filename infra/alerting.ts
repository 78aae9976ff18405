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
  /** Name of the app's load balancer at DigitalOcean, and the resource it exists after. */
  loadBalancer: { name: string; createdBy: pulumi.Resource };
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
  { key: "node-memory", type: "v1/insights/droplet/memory_utilization_percent", compare: "GreaterThan", value: 85, description: "node memory above 85%" },
  { key: "node-disk", type: "v1/insights/droplet/disk_utilization_percent", compare: "GreaterThan", value: 85, description: "node disk above 85%" },
];

/** Load balancer alerts; the p99 threshold is the configured response-time target. */
export function loadBalancerAlerts(responseTimeMs: number): Threshold[] {
  return [
    { key: "lb-backend-health", type: "v1/insights/lbaas/droplet_health", compare: "LessThan", value: 100, description: "a load balancer backend is unhealthy" },
    { key: "lb-5xx", type: "v1/insights/lbaas/increase_in_http_error_rate_percentage_5xx", compare: "GreaterThan", value: 1, description: "5xx rate above 1%" },
    {
      key: "lb-p99",
      type: "v1/insights/lbaas/high_http_request_response_time_99p",
      compare: "GreaterThan",
      value: responseTimeMs,
      description: `p99 response time above ${responseTimeMs} ms`,
    },
  ];
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
  constructor(name: string, args: AlertingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:Alerting", name, {}, opts);
    const cfg = args.config;
    const slacks = cfg.slack ? [{ channel: cfg.slack.channel, url: cfg.slack.webhookUrl }] : [];
    const monitor = (key: string, t: Threshold, target: { tags?: pulumi.Input<string>[]; entities?: pulumi.Input<string>[] }, dependsOn: pulumi.Resource[] = []) =>
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

    const lb = digitalocean.getLoadBalancerOutput({ name: args.loadBalancer.name }, { parent: this, dependsOn: [args.loadBalancer.createdBy] });
    const loadBalancerId = lb.apply(({ id }) => {
      if (!id) throw new Error(`load balancer ${args.loadBalancer.name} was not found after its Service became ready`);
      return id;
    });
    for (const t of loadBalancerAlerts(cfg.responseTimeMs)) monitor(t.key, t, { entities: [loadBalancerId] }, [args.loadBalancer.createdBy]);

    for (const db of args.databases) {
      for (const t of DATABASE_ALERTS) {
        monitor(`${db.label}-${t.key}`, { ...t, description: `${db.label} ${t.description}` }, { entities: [db.clusterId] });
      }
    }

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
    const notifications = [{ emails: cfg.emails, slacks }];
    const uptimeAlert = (key: string, a: Omit<digitalocean.UptimeAlertArgs, "checkId" | "notifications" | "name">) =>
      new digitalocean.UptimeAlert(`${args.prefix}-${key}`, { checkId: check.id, name: `${args.prefix}-${key}`, notifications, ...a }, { parent: this });
    uptimeAlert("down", { type: "down_global", period: "2m" });
    uptimeAlert("latency", { type: "latency", comparison: "greater_than", threshold: cfg.responseTimeMs, period: "5m" });
    if (args.tls) uptimeAlert("ssl-expiry", { type: "ssl_expiry", threshold: 14 });

    this.registerOutputs({ uptimeCheckId: check.id, downtimeBudgetMinutes: downtimeBudgetMinutes(cfg.uptimeTargetPercent) });
  }
}
