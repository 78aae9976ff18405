/**
 * The service's Prometheus alerts, written once. The same definitions are rendered into the stack's
 * `PrometheusRule` (infra/monitoring.ts), into a plain rules file for `promtool check rules` / `promtool test rules`
 * (test/observability) and into the local cluster's Prometheus (harness/prometheus.ts).
 *
 * Series names are the app's (app/src/metrics.ts) as Prometheus stores them after a scrape: every target
 * carries `job="gomeet"` (the ServiceMonitor takes the job from the Service's `app.kubernetes.io/name` label;
 * the local Prometheus names its job so) and the scrape's own `instance` label (the app's own `instance`
 * label, its pod name, becomes `exported_instance`).
 *
 * No pulumi import here: the harness and the tests use this module without the Pulumi runtime.
 */
import { stringify } from "yaml";

/** The scrape job every rule selects. */
export const APP_JOB = "gomeet";
/** The rule group's name in the PrometheusRule and in the rules file. */
export const RULE_GROUP = "gomeet.service";
/** Where the runbooks live, relative to the repository root. */
export const RUNBOOK_PATH = "docs/runbooks.md";

export type Severity = "critical" | "warning";

/** Settings the thresholds are built from. */
export interface AlertRuleSettings {
  /** Ready instances below this raise GoMeetReplicasBelowFloor: the Deployment's replicas (the HPA floor). */
  haFloor: number;
  /** Fan-out p99 target in seconds (the service's 100 ms response-time target). */
  fanoutP99Seconds: number;
  /** Multiplies every `for:` duration: 1 in the stack; the local cluster uses a small factor (short drills). */
  forScale: number;
  /**
   * Base of the runbook links: the repository's web address for files (e.g. `https://git.example/gomeet/blob/main`);
   * without it the link is the repository-relative path.
   */
  runbookBaseUrl?: string;
  /** The standby region's replication lag above which GoMeetStandbyReplicationLagHigh fires: the RPO (default 60 s). */
  maxReplicationLagSeconds?: number;
}

/** The scrape job of the region failover controller (its metrics Service's `app.kubernetes.io/name`). */
export const FAILOVER_JOB = "gomeet-failover";
export const DEFAULT_MAX_REPLICATION_LAG_SECONDS = 60;

/** One alert, as written once. */
export interface AlertDefinition {
  alert: string;
  expr: string;
  /** Seconds the condition must hold before the alert fires (0: fires at the first evaluation). */
  forSeconds: number;
  severity: Severity;
  summary: string;
  description: string;
  /** Anchor of its section in docs/runbooks.md. */
  runbook: string;
}

/** A rule as Prometheus reads it (rules file and PrometheusRule spec alike). */
export interface RenderedRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: Severity };
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface RenderedGroup {
  name: string;
  rules: RenderedRule[];
}

const APP = `job="${APP_JOB}"`;
/** Probe and scrape routes: a 503 from /readyz is readiness doing its job, not a failed request. */
const SERVED = `${APP},route!~"/readyz|/healthz|/metrics"`;

/** The service's alerts with the given thresholds. */
export function alertDefinitions(
  s: Pick<AlertRuleSettings, "haFloor" | "fanoutP99Seconds" | "maxReplicationLagSeconds">,
): AlertDefinition[] {
  if (!Number.isInteger(s.haFloor) || s.haFloor < 1)
    throw new Error(`alert rules: haFloor must be a positive integer, got ${String(s.haFloor)}`);
  if (!(s.fanoutP99Seconds > 0)) throw new Error(`alert rules: fanoutP99Seconds must be positive, got ${String(s.fanoutP99Seconds)}`);
  const targetMs = Math.round(s.fanoutP99Seconds * 1000);
  return [
    {
      alert: "GoMeetInstanceDown",
      expr: `up{${APP}} == 0`,
      forSeconds: 60,
      severity: "critical",
      summary: "A GoMeet instance does not answer its metrics scrape",
      description: "{{ $labels.instance }} has failed every scrape for the last minute: the process is dead, hung or unreachable.",
      runbook: "instance-down",
    },
    {
      alert: "GoMeetNoInstanceUp",
      expr: `absent(up{${APP}} == 1)`,
      forSeconds: 60,
      severity: "critical",
      summary: "No GoMeet instance is scraped successfully",
      description: "Prometheus has no healthy GoMeet target: the whole service is down or no longer discovered.",
      runbook: "no-instance-up",
    },
    {
      alert: "GoMeetReplicasBelowFloor",
      expr: `(sum(gomeet_ready{${APP}}) or vector(0)) < ${s.haFloor}`,
      forSeconds: 300,
      severity: "critical",
      summary: `Fewer than ${s.haFloor} GoMeet instances are ready (the HA floor)`,
      description: `Only {{ $value }} instances answer /readyz with 200; the service needs ${s.haFloor} to survive losing one.`,
      runbook: "replicas-below-floor",
    },
    {
      alert: "GoMeetInstanceFlapping",
      expr: `changes(gomeet_process_start_time_seconds{${APP}}[15m]) >= 2`,
      forSeconds: 0,
      severity: "warning",
      summary: "A GoMeet instance keeps restarting",
      description: "{{ $labels.instance }} started {{ $value }} more times in the last 15 minutes.",
      runbook: "instance-flapping",
    },
    {
      alert: "GoMeetInstanceNotReady",
      expr: `gomeet_ready{${APP}} == 0`,
      forSeconds: 120,
      severity: "warning",
      summary: "A GoMeet instance answers /readyz with 503",
      description: "{{ $labels.instance }} has been out of the load balancer for 2 minutes (Valkey unusable from it, or stuck draining).",
      runbook: "instance-not-ready",
    },
    {
      alert: "GoMeetInstanceDegraded",
      expr: `gomeet_readiness_status{${APP},status="degraded"} == 1`,
      forSeconds: 300,
      severity: "warning",
      summary: "A GoMeet instance reports readiness 'degraded'",
      description: "{{ $labels.instance }} serves traffic but a PostgreSQL node or a LiveKit deployment is down as seen from it.",
      runbook: "instance-degraded",
    },
    {
      alert: "GoMeetFanoutP99High",
      expr: `histogram_quantile(0.99, sum by (le) (rate(gomeet_fanout_latency_seconds_bucket{${APP}}[5m]))) > ${s.fanoutP99Seconds}`,
      forSeconds: 300,
      severity: "warning",
      summary: `Fan-out p99 is over the ${targetMs} ms target`,
      description: `The 99th percentile from the Valkey append to the socket write is {{ $value | humanizeDuration }} (target ${targetMs} ms).`,
      runbook: "fanout-p99-high",
    },
    {
      alert: "GoMeetValkeyConnectionsRecycled",
      expr: `sum(increase(gomeet_redis_recycles_total{${APP}}[10m])) > 0`,
      forSeconds: 0,
      severity: "warning",
      summary: "GoMeet recycled its Valkey connections",
      description: "{{ $value | humanize }} recycles in 10 minutes: the Valkey endpoint answered READONLY or changed role (a failover).",
      runbook: "valkey-connections-recycled",
    },
    {
      alert: "GoMeetCriticalDependencyDown",
      expr: `max by (dependency, name) (gomeet_dependency_up{${APP},dependency=~"redis|postgres_primary"}) == 0`,
      forSeconds: 60,
      severity: "critical",
      summary: "A dependency GoMeet cannot work without is down",
      description: "{{ $labels.dependency }} ({{ $labels.name }}) has been down from every instance for a minute.",
      runbook: "dependency-down",
    },
    {
      alert: "GoMeetValkeyRefusingWrites",
      expr: `max(gomeet_redis_writes_refused{${APP}}) == 1`,
      forSeconds: 60,
      severity: "critical",
      summary: "Valkey refuses GoMeet's writes (maxmemory reached)",
      description:
        "Valkey has answered OOM to GoMeet's writes for a minute: no join, message or presence change succeeds, and /readyz answers 503.",
      runbook: "valkey-refusing-writes",
    },
    {
      alert: "GoMeetDependencyDown",
      expr: `max by (dependency, name) (gomeet_dependency_up{${APP},dependency!~"redis|postgres_primary"}) == 0`,
      forSeconds: 120,
      severity: "warning",
      summary: "A GoMeet dependency is down (the service works around it)",
      description: "{{ $labels.dependency }} ({{ $labels.name }}) has been down from every instance for 2 minutes.",
      runbook: "dependency-down",
    },
    {
      alert: "GoMeetSlowConsumers",
      expr: `sum(increase(gomeet_ws_slow_consumers_total{${APP}}[5m])) > 0.01 * clamp_min(sum(gomeet_ws_connections{${APP}}), 500)`,
      forSeconds: 600,
      severity: "warning",
      summary: "GoMeet is closing many slow WebSocket consumers",
      description:
        "{{ $value | humanize }} connections in 5 minutes were closed because their send buffer overflowed (over 1% of open ones).",
      runbook: "slow-consumers",
    },
    {
      alert: "GoMeetHeartbeatTimeouts",
      expr: `sum(increase(gomeet_ws_heartbeat_timeouts_total{${APP}}[5m])) > 0.05 * clamp_min(sum(gomeet_ws_connections{${APP}}), 100)`,
      forSeconds: 600,
      severity: "warning",
      summary: "Many GoMeet WebSocket clients stop answering pings",
      description: "{{ $value | humanize }} connections in 5 minutes missed their heartbeat (over 5% of open ones).",
      runbook: "heartbeat-timeouts",
    },
    {
      alert: "GoMeetHttp5xxRatioHigh",
      expr:
        `sum(rate(gomeet_http_requests_total{${SERVED},status=~"5.."}[5m]))` +
        ` / sum(rate(gomeet_http_requests_total{${SERVED}}[5m])) > 0.01`,
      forSeconds: 300,
      severity: "warning",
      summary: "Over 1% of GoMeet's HTTP requests fail with 5xx",
      description: "{{ $value | humanizePercentage }} of API requests (probes and scrapes excluded) answered 5xx over 5 minutes.",
      runbook: "http-5xx-ratio",
    },
    ...regionAlerts(s.maxReplicationLagSeconds ?? DEFAULT_MAX_REPLICATION_LAG_SECONDS),
  ];
}

/**
 * The standby region's alerts. The lag is the app's gomeet_postgres_replication_lag_seconds (only a standby region's
 * instances export it; 0 once everything received is replayed): above the threshold, a region failover now would lose
 * that much. The controller's (job gomeet-failover): the primary region declared lost, and a failover that failed.
 */
function regionAlerts(maxLagSeconds: number): AlertDefinition[] {
  if (!(maxLagSeconds > 0)) throw new Error(`alert rules: maxReplicationLagSeconds must be positive, got ${String(maxLagSeconds)}`);
  const controller = `job="${FAILOVER_JOB}"`;
  return [
    {
      alert: "GoMeetStandbyReplicationLagHigh",
      expr: `max(gomeet_postgres_replication_lag_seconds{${APP}}) > ${maxLagSeconds}`,
      forSeconds: 120,
      severity: "warning",
      summary: `The standby region's database is more than ${maxLagSeconds} s behind the primary`,
      description: `Replication lag {{ $value | humanizeDuration }}: a region failover now would lose that much (the RPO is ${maxLagSeconds} s).`,
      runbook: "standby-replication-lag",
    },
    {
      alert: "GoMeetRegionLost",
      expr: `max by (region) (gomeet_region_lost{${controller}}) == 1`,
      forSeconds: 0,
      severity: "critical",
      summary: "The primary region is declared lost",
      description:
        "Every vantage point has seen region {{ $labels.region }} down for the detection window. Automatic mode fails over now; manual mode waits for npm run region-failover.",
      runbook: "region-failover",
    },
    {
      alert: "GoMeetFailoverFailed",
      expr: `max(gomeet_failover_state{${controller},state="failed"}) == 1`,
      forSeconds: 0,
      severity: "critical",
      summary: "A region failover stopped part-way",
      description:
        "The failover controller's last run failed at a step (its log names it); it retries, and the runbook says how to finish by hand.",
      runbook: "region-failover",
    },
  ];
}

/** A Prometheus duration for `seconds` (whole seconds, at least 1 s when non-zero). */
export function promDuration(seconds: number): string {
  if (!(seconds >= 0) || !Number.isFinite(seconds))
    throw new Error(`promDuration: seconds must be a finite number ≥ 0, got ${String(seconds)}`);
  const whole = seconds === 0 ? 0 : Math.max(1, Math.round(seconds));
  if (whole === 0) return "0s";
  return whole % 60 === 0 ? `${whole / 60}m` : `${whole}s`;
}

/** The runbook link of an anchor. */
export function runbookUrl(anchor: string, baseUrl?: string): string {
  return baseUrl === undefined ? `${RUNBOOK_PATH}#${anchor}` : `${baseUrl.replace(/\/+$/, "")}/${RUNBOOK_PATH}#${anchor}`;
}

/** The rule groups, as both the PrometheusRule spec and the rules file hold them. */
export function renderRuleGroups(s: AlertRuleSettings): RenderedGroup[] {
  if (!(s.forScale > 0) || !Number.isFinite(s.forScale))
    throw new Error(`alert rules: forScale must be a positive number, got ${String(s.forScale)}`);
  const rules = alertDefinitions(s).map((d): RenderedRule => {
    const rule: RenderedRule = {
      alert: d.alert,
      expr: d.expr,
      labels: { severity: d.severity },
      annotations: { summary: d.summary, description: d.description, runbook_url: runbookUrl(d.runbook, s.runbookBaseUrl) },
    };
    if (d.forSeconds > 0) rule.for = promDuration(d.forSeconds * s.forScale);
    return rule;
  });
  return [{ name: RULE_GROUP, rules }];
}

/** The plain rules file (`promtool check rules`, `rule_files:` of a Prometheus). */
export function rulesFileYaml(s: AlertRuleSettings): string {
  return stringify({ groups: renderRuleGroups(s) }, { lineWidth: 0 });
}

/** The `spec` of the stack's PrometheusRule. */
export function prometheusRuleSpec(s: AlertRuleSettings): { groups: RenderedGroup[] } {
  return { groups: renderRuleGroups(s) };
}
