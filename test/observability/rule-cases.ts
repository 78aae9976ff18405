/**
 * promtool unit tests of the service's alerts: for every alert one case where it fires and one where a
 * near miss keeps it quiet. Series are written as Prometheus stores them after a scrape (`job="gomeet"`,
 * the scrape's `instance`). Settings: HA floor 3, fan-out target 100 ms, `for:` unscaled (the stack's rules).
 */

import { VALKEY_ALERT_CASES } from "./rule-cases-valkey";

/** One promtool `tests:` entry for one alert at one evaluation time. */
export interface AlertCase {
  alert: string;
  /** What the case shows, for its name. */
  title: string;
  /** [series, values] in promtool's expanding notation, one sample a minute. */
  series: Array<[string, string]>;
  evalTime: string;
  /** The alerts expected at evalTime: none means the alert stays quiet. */
  fires: Array<{ labels: Record<string, string>; description: string }>;
}

export const RULE_SETTINGS = {
  haFloor: 3,
  fanoutP99Seconds: 0.1,
  forScale: 1,
  runbookBaseUrl: "https://git.gomeet.example/gomeet/blob/main",
};

const app = (labels: string) => `{job="gomeet",${labels}}`;
const A = 'instance="10.0.0.1:8080"';
const B = 'instance="10.0.0.2:8080"';
const C = 'instance="10.0.0.3:8080"';
const onA = { job: "gomeet", instance: "10.0.0.1:8080" };

export const ALERT_CASES: AlertCase[] = [
  {
    alert: "GoMeetInstanceDown",
    title: "a target failing every scrape for a minute fires",
    series: [
      [`up${app(A)}`, "1 1 0 0 0"],
      [`up${app(B)}`, "1x4"],
    ],
    evalTime: "4m",
    fires: [
      {
        labels: { ...onA, severity: "critical" },
        description: "10.0.0.1:8080 has failed every scrape for the last minute: the process is dead, hung or unreachable.",
      },
    ],
  },
  {
    alert: "GoMeetInstanceDown",
    title: "one failed scrape stays quiet",
    series: [[`up${app(A)}`, "1 1 0 1 1"]],
    evalTime: "4m",
    fires: [],
  },
  {
    alert: "GoMeetNoInstanceUp",
    title: "every target down fires",
    series: [
      [`up${app(A)}`, "0x4"],
      [`up${app(B)}`, "0x4"],
    ],
    evalTime: "3m",
    fires: [
      {
        labels: { severity: "critical" },
        description: "Prometheus has no healthy GoMeet target: the whole service is down or no longer discovered.",
      },
    ],
  },
  {
    alert: "GoMeetNoInstanceUp",
    title: "one target up stays quiet",
    series: [
      [`up${app(A)}`, "0x4"],
      [`up${app(B)}`, "1x4"],
    ],
    evalTime: "3m",
    fires: [],
  },
  {
    alert: "GoMeetReplicasBelowFloor",
    title: "an instance gone (its series stale) for 5 minutes fires",
    series: [
      [`gomeet_ready${app(A)}`, "1x10"],
      [`gomeet_ready${app(B)}`, "1x10"],
      [`gomeet_ready${app(C)}`, "1 1 stale"],
    ],
    evalTime: "8m",
    fires: [
      {
        labels: { severity: "critical" },
        description: "Only 2 instances answer /readyz with 200; the service needs 3 to survive losing one.",
      },
    ],
  },
  {
    alert: "GoMeetReplicasBelowFloor",
    title: "three ready instances stay quiet, and so does a dip shorter than 5 minutes",
    series: [
      [`gomeet_ready${app(A)}`, "1x10"],
      [`gomeet_ready${app(B)}`, "1x10"],
      [`gomeet_ready${app(C)}`, "1 1 0 0 1x7"],
    ],
    evalTime: "8m",
    fires: [],
  },
  {
    alert: "GoMeetInstanceFlapping",
    title: "two restarts in 15 minutes fire",
    series: [[`gomeet_process_start_time_seconds${app(A)}`, "100 100 200 200 300 300"]],
    evalTime: "5m",
    fires: [{ labels: { ...onA, severity: "warning" }, description: "10.0.0.1:8080 started 2 more times in the last 15 minutes." }],
  },
  {
    alert: "GoMeetInstanceFlapping",
    title: "one restart stays quiet",
    series: [[`gomeet_process_start_time_seconds${app(A)}`, "100 100 200 200 200 200"]],
    evalTime: "5m",
    fires: [],
  },
  {
    alert: "GoMeetInstanceNotReady",
    title: "503 on /readyz for 2 minutes fires",
    series: [[`gomeet_ready${app(A)}`, "1 0 0 0 0"]],
    evalTime: "4m",
    fires: [
      {
        labels: { ...onA, severity: "warning" },
        description: "10.0.0.1:8080 has been out of the load balancer for 2 minutes (Valkey unusable from it, or stuck draining).",
      },
    ],
  },
  {
    alert: "GoMeetInstanceNotReady",
    title: "a one-minute drain stays quiet",
    series: [[`gomeet_ready${app(A)}`, "1 0 1 1 1"]],
    evalTime: "4m",
    fires: [],
  },
  {
    alert: "GoMeetInstanceDegraded",
    title: "degraded for 5 minutes fires",
    series: [
      [`gomeet_readiness_status${app(`${A},status="degraded"`)}`, "1x8"],
      [`gomeet_readiness_status${app(`${A},status="healthy"`)}`, "0x8"],
    ],
    evalTime: "6m",
    fires: [
      {
        labels: { ...onA, status: "degraded", severity: "warning" },
        description: "10.0.0.1:8080 serves traffic but a PostgreSQL node or a LiveKit deployment is down as seen from it.",
      },
    ],
  },
  {
    alert: "GoMeetInstanceDegraded",
    title: "degraded for 2 minutes (a failover) stays quiet",
    series: [[`gomeet_readiness_status${app(`${A},status="degraded"`)}`, "1 1 0x6"]],
    evalTime: "6m",
    fires: [],
  },
  {
    alert: "GoMeetFanoutP99High",
    title: "every frame between 100 and 250 ms for 5 minutes fires",
    series: [
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.05"`)}`, "0+0x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.1"`)}`, "0+0x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.25"`)}`, "0+600x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="+Inf"`)}`, "0+600x15"],
    ],
    evalTime: "12m",
    fires: [
      {
        labels: { severity: "warning" },
        description: "The 99th percentile from the Valkey append to the socket write is 248.5ms (target 100 ms).",
      },
    ],
  },
  {
    alert: "GoMeetFanoutP99High",
    title: "frames under 50 ms stay quiet",
    series: [
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.05"`)}`, "0+600x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.1"`)}`, "0+600x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="0.25"`)}`, "0+600x15"],
      [`gomeet_fanout_latency_seconds_bucket${app(`${A},le="+Inf"`)}`, "0+600x15"],
    ],
    evalTime: "12m",
    fires: [],
  },
  {
    alert: "GoMeetValkeyConnectionsRecycled",
    title: "a recycle on two instances fires at once",
    series: [
      [`gomeet_redis_recycles_total${app(A)}`, "0 0 0 1 1"],
      [`gomeet_redis_recycles_total${app(B)}`, "0 0 0 1 1"],
    ],
    evalTime: "4m",
    fires: [
      {
        labels: { severity: "warning" },
        description: "2 recycles in 10 minutes: the Valkey endpoint answered READONLY or changed role (a failover).",
      },
    ],
  },
  {
    alert: "GoMeetValkeyConnectionsRecycled",
    title: "no recycle stays quiet",
    series: [[`gomeet_redis_recycles_total${app(A)}`, "0x10"]],
    evalTime: "4m",
    fires: [],
  },
  {
    alert: "GoMeetCriticalDependencyDown",
    title: "Valkey down from every instance for a minute fires",
    series: [
      [`gomeet_dependency_up${app(`${A},dependency="redis",name="valkey"`)}`, "1 0 0 0"],
      [`gomeet_dependency_up${app(`${B},dependency="redis",name="valkey"`)}`, "1 0 0 0"],
    ],
    evalTime: "3m",
    fires: [
      {
        labels: { dependency: "redis", name: "valkey", severity: "critical" },
        description: "redis (valkey) has been down from every instance for a minute.",
      },
    ],
  },
  {
    alert: "GoMeetCriticalDependencyDown",
    title: "Valkey down from one instance only stays quiet",
    series: [
      [`gomeet_dependency_up${app(`${A},dependency="redis",name="valkey"`)}`, "1 0 0 0"],
      [`gomeet_dependency_up${app(`${B},dependency="redis",name="valkey"`)}`, "1 1 1 1"],
    ],
    evalTime: "3m",
    fires: [],
  },
  ...VALKEY_ALERT_CASES,
  {
    alert: "GoMeetDependencyDown",
    title: "a LiveKit deployment down from every instance for 2 minutes fires",
    series: [
      [`gomeet_dependency_up${app(`${A},dependency="livekit",name="nyc"`)}`, "1 0 0 0 0"],
      [`gomeet_dependency_up${app(`${B},dependency="livekit",name="nyc"`)}`, "1 0 0 0 0"],
    ],
    evalTime: "4m",
    fires: [
      {
        labels: { dependency: "livekit", name: "nyc", severity: "warning" },
        description: "livekit (nyc) has been down from every instance for 2 minutes.",
      },
    ],
  },
  {
    alert: "GoMeetDependencyDown",
    title: "a LiveKit blip of one minute stays quiet, and Valkey is left to the critical alert",
    series: [
      [`gomeet_dependency_up${app(`${A},dependency="livekit",name="nyc"`)}`, "1 0 1 1 1"],
      [`gomeet_dependency_up${app(`${A},dependency="redis",name="valkey"`)}`, "0 0 0 0 0"],
    ],
    evalTime: "4m",
    fires: [],
  },
  {
    alert: "GoMeetSlowConsumers",
    title: "5 slow consumers a minute among 1000 connections for 10 minutes fire",
    series: [
      [`gomeet_ws_slow_consumers_total${app(A)}`, "0+5x20"],
      [`gomeet_ws_connections${app(A)}`, "1000x20"],
    ],
    evalTime: "17m",
    fires: [
      {
        labels: { severity: "warning" },
        description: "25 connections in 5 minutes were closed because their send buffer overflowed (over 1% of open ones).",
      },
    ],
  },
  {
    alert: "GoMeetSlowConsumers",
    title: "1 a minute among 1000 connections stays quiet",
    series: [
      [`gomeet_ws_slow_consumers_total${app(A)}`, "0+1x20"],
      [`gomeet_ws_connections${app(A)}`, "1000x20"],
    ],
    evalTime: "17m",
    fires: [],
  },
  {
    alert: "GoMeetHeartbeatTimeouts",
    title: "2 timeouts a minute among 100 connections for 10 minutes fire",
    series: [
      [`gomeet_ws_heartbeat_timeouts_total${app(A)}`, "0+2x20"],
      [`gomeet_ws_connections${app(A)}`, "100x20"],
    ],
    evalTime: "17m",
    fires: [{ labels: { severity: "warning" }, description: "10 connections in 5 minutes missed their heartbeat (over 5% of open ones)." }],
  },
  {
    alert: "GoMeetHeartbeatTimeouts",
    title: "2 a minute among 1000 connections stay quiet",
    series: [
      [`gomeet_ws_heartbeat_timeouts_total${app(A)}`, "0+2x20"],
      [`gomeet_ws_connections${app(A)}`, "1000x20"],
    ],
    evalTime: "17m",
    fires: [],
  },
  {
    alert: "GoMeetHttp5xxRatioHigh",
    title: "5 failures per 100 successes for 5 minutes fire",
    series: [
      [`gomeet_http_requests_total${app(`${A},route="/rooms",status="201"`)}`, "0+100x12"],
      [`gomeet_http_requests_total${app(`${A},route="/rooms",status="503"`)}`, "0+5x12"],
    ],
    evalTime: "11m",
    fires: [
      { labels: { severity: "warning" }, description: "4.762% of API requests (probes and scrapes excluded) answered 5xx over 5 minutes." },
    ],
  },
  {
    alert: "GoMeetHttp5xxRatioHigh",
    title: "503s from /readyz (readiness doing its job) stay quiet",
    series: [
      [`gomeet_http_requests_total${app(`${A},route="/rooms",status="201"`)}`, "0+100x12"],
      [`gomeet_http_requests_total${app(`${A},route="/readyz",status="503"`)}`, "0+1000x12"],
    ],
    evalTime: "11m",
    fires: [],
  },
  {
    alert: "GoMeetStandbyReplicationLagHigh",
    title: "a standby 90 s behind for 2 minutes fires (threshold 60 s)",
    series: [
      [`gomeet_postgres_replication_lag_seconds${app(A)}`, "0 30 90 90 90 90"],
      [`gomeet_postgres_replication_lag_seconds${app(B)}`, "0x5"],
    ],
    evalTime: "5m",
    fires: [
      {
        labels: { severity: "warning" },
        description: "Replication lag 1m 30s: a region failover now would lose that much (the RPO is 60 s).",
      },
    ],
  },
  {
    alert: "GoMeetStandbyReplicationLagHigh",
    title: "a lag spike under 2 minutes stays quiet",
    series: [[`gomeet_postgres_replication_lag_seconds${app(A)}`, "0 0 90 0 0 0"]],
    evalTime: "5m",
    fires: [],
  },
  {
    alert: "GoMeetRegionLost",
    title: "the controller declaring the primary region lost fires at once",
    series: [[`gomeet_region_lost{job="gomeet-failover",instance="10.0.1.1:9464",region="nyc3"}`, "0 0 1"]],
    evalTime: "2m",
    fires: [
      {
        labels: { region: "nyc3", severity: "critical" },
        description:
          "Every vantage point has seen region nyc3 down for the detection window. Automatic mode fails over now; manual mode waits for npm run region-failover.",
      },
    ],
  },
  {
    alert: "GoMeetRegionLost",
    title: "a watching controller stays quiet",
    series: [[`gomeet_region_lost{job="gomeet-failover",instance="10.0.1.1:9464",region="nyc3"}`, "0x2"]],
    evalTime: "2m",
    fires: [],
  },
  {
    alert: "GoMeetFailoverFailed",
    title: "a failover stopped part-way fires",
    series: [
      [`gomeet_failover_state{job="gomeet-failover",instance="10.0.1.1:9464",state="failed"}`, "0 1 1"],
      [`gomeet_failover_state{job="gomeet-failover",instance="10.0.1.1:9464",state="failing_over"}`, "1 0 0"],
    ],
    evalTime: "2m",
    fires: [
      {
        labels: { severity: "critical" },
        description:
          "The failover controller's last run failed at a step (its log names it); it retries, and the runbook says how to finish by hand.",
      },
    ],
  },
  {
    alert: "GoMeetFailoverFailed",
    title: "a completed failover stays quiet",
    series: [[`gomeet_failover_state{job="gomeet-failover",instance="10.0.1.1:9464",state="failed"}`, "0x2"]],
    evalTime: "2m",
    fires: [],
  },
];
