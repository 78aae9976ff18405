/**
 * The "GoMeet service" Grafana dashboard, built from the app's metric names (app/src/metrics.ts) and the
 * alert thresholds (infra/alert-rules.ts). kube-prometheus-stack's Grafana sidecar loads it from a ConfigMap
 * labelled `grafana_dashboard: "1"`. The datasource is a dashboard variable whose default is the chart's
 * Prometheus datasource (uid `prometheus`: prometheus-community/helm-charts @ cf408a290aec489277a94450bb3511432477a53a,
 * charts/kube-prometheus-stack/values.yaml, grafana.sidecar.datasources.uid).
 */
import { APP_JOB } from "./alert-rules";

export const DASHBOARD_UID = "gomeet-service";
export const DASHBOARD_FILE = "gomeet-service.json";

/** Settings the thresholds drawn on the panels come from. */
export interface DashboardSettings {
  haFloor: number;
  fanoutP99Seconds: number;
}

interface Target {
  expr: string;
  legendFormat: string;
}

interface Panel {
  title: string;
  type: "timeseries" | "stat";
  unit: string;
  targets: Target[];
  /** A red threshold line / colour at this value. */
  threshold?: { value: number; below?: boolean };
  description?: string;
}

const APP = `job="${APP_JOB}"`;
const t = (expr: string, legendFormat: string): Target => ({ expr, legendFormat });

/** The panels, top to bottom in rows of three. */
export function dashboardPanels(s: DashboardSettings): Panel[] {
  return [
    {
      title: "Instances up",
      type: "stat",
      unit: "none",
      targets: [t(`sum(up{${APP}})`, "up")],
      threshold: { value: s.haFloor, below: true },
    },
    {
      title: "Instances ready (HA floor)",
      type: "stat",
      unit: "none",
      targets: [t(`sum(gomeet_ready{${APP}})`, "ready")],
      threshold: { value: s.haFloor, below: true },
      description: "Instances answering /readyz with 200; GoMeetReplicasBelowFloor fires below the floor.",
    },
    {
      title: "Firing GoMeet alerts",
      type: "stat",
      unit: "none",
      targets: [t(`count(ALERTS{alertname=~"GoMeet.*",alertstate="firing"}) or vector(0)`, "firing")],
      threshold: { value: 1 },
    },
    {
      title: "Readiness by instance",
      type: "timeseries",
      unit: "none",
      targets: [t(`gomeet_readiness_status{${APP}} == 1`, "{{instance}} {{status}}")],
    },
    {
      title: "Fan-out latency (Valkey append → socket write)",
      type: "timeseries",
      unit: "s",
      targets: [
        t(`histogram_quantile(0.5, sum by (le) (rate(gomeet_fanout_latency_seconds_bucket{${APP}}[5m])))`, "p50"),
        t(`histogram_quantile(0.99, sum by (le) (rate(gomeet_fanout_latency_seconds_bucket{${APP}}[5m])))`, "p99"),
      ],
      threshold: { value: s.fanoutP99Seconds },
    },
    {
      title: "WebSocket connections",
      type: "timeseries",
      unit: "none",
      targets: [t(`sum by (instance) (gomeet_ws_connections{${APP}})`, "{{instance}}")],
    },
    {
      title: "Messages per second",
      type: "timeseries",
      unit: "ops",
      targets: [
        t(`sum by (result) (rate(gomeet_ws_messages_in_total{${APP}}[5m]))`, "in {{result}}"),
        t(`sum(rate(gomeet_ws_messages_out_total{${APP}}[5m]))`, "out (per socket)"),
      ],
    },
    {
      title: "HTTP requests by status",
      type: "timeseries",
      unit: "reqps",
      targets: [t(`sum by (status) (rate(gomeet_http_requests_total{${APP},route!~"/readyz|/healthz|/metrics"}[5m]))`, "{{status}}")],
    },
    {
      title: "HTTP p99 by route",
      type: "timeseries",
      unit: "s",
      targets: [
        t(`histogram_quantile(0.99, sum by (le, route) (rate(gomeet_http_request_duration_seconds_bucket{${APP}}[5m])))`, "{{route}}"),
      ],
    },
    {
      title: "Dependencies (1 = up, by instance)",
      type: "timeseries",
      unit: "none",
      targets: [t(`gomeet_dependency_up{${APP}}`, "{{instance}} {{dependency}} {{name}}")],
    },
    {
      title: "Valkey connection recycles (10 min)",
      type: "timeseries",
      unit: "none",
      targets: [t(`sum by (instance) (increase(gomeet_redis_recycles_total{${APP}}[10m]))`, "{{instance}}")],
    },
    {
      title: "Closed connections per second",
      type: "timeseries",
      unit: "ops",
      targets: [
        t(`sum(rate(gomeet_ws_slow_consumers_total{${APP}}[5m]))`, "slow consumers"),
        t(`sum(rate(gomeet_ws_heartbeat_timeouts_total{${APP}}[5m]))`, "heartbeat timeouts"),
        t(`sum by (reason) (rate(gomeet_ws_closed_total{${APP}}[5m]))`, "closed: {{reason}}"),
      ],
    },
    {
      title: "Recoveries and gap heals per second",
      type: "timeseries",
      unit: "ops",
      targets: [
        t(`sum by (result) (rate(gomeet_ws_recoveries_total{${APP}}[5m]))`, "resume {{result}}"),
        t(`sum(rate(gomeet_fanout_gap_heals_total{${APP}}[5m]))`, "gap heals"),
      ],
    },
    {
      title: "CPU (cores) by instance",
      type: "timeseries",
      unit: "none",
      targets: [t(`rate(gomeet_process_cpu_seconds_total{${APP}}[5m])`, "{{instance}}")],
    },
    {
      title: "Resident memory by instance",
      type: "timeseries",
      unit: "bytes",
      targets: [t(`gomeet_process_resident_memory_bytes{${APP}}`, "{{instance}}")],
    },
  ];
}

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

function panelJson(p: Panel, id: number): Record<string, unknown> {
  const steps: Array<{ color: string; value: number | null }> =
    p.threshold === undefined
      ? [{ color: "green", value: null }]
      : p.threshold.below
        ? [
            { color: "red", value: null },
            { color: "green", value: p.threshold.value },
          ]
        : [
            { color: "green", value: null },
            { color: "red", value: p.threshold.value },
          ];
  return {
    id,
    title: p.title,
    type: p.type,
    description: p.description ?? "",
    datasource: DATASOURCE,
    gridPos: { h: p.type === "stat" ? 5 : 8, w: 8, x: ((id - 1) % 3) * 8, y: Math.floor((id - 1) / 3) * 8 },
    fieldConfig: {
      defaults: {
        unit: p.unit,
        thresholds: { mode: "absolute", steps },
        ...(p.type === "timeseries" && p.threshold !== undefined ? { custom: { thresholdsStyle: { mode: "line" } } } : {}),
      },
      overrides: [],
    },
    options:
      p.type === "stat"
        ? { colorMode: "background", graphMode: "area", reduceOptions: { calcs: ["lastNotNull"] } }
        : { legend: { displayMode: "list" } },
    targets: p.targets.map((target, i) => ({ refId: String.fromCharCode(65 + i), datasource: DATASOURCE, ...target })),
  };
}

/** The dashboard model Grafana imports. */
export function gomeetDashboard(s: DashboardSettings): Record<string, unknown> {
  return {
    uid: DASHBOARD_UID,
    title: "GoMeet service",
    tags: ["gomeet"],
    timezone: "utc",
    schemaVersion: 39,
    refresh: "30s",
    time: { from: "now-3h", to: "now" },
    templating: {
      list: [{ name: "datasource", type: "datasource", query: "prometheus", current: { text: "Prometheus", value: "prometheus" } }],
    },
    annotations: { list: [] },
    panels: dashboardPanels(s).map((p, i) => panelJson(p, i + 1)),
  };
}
