/**
 * Prometheus metrics, one registry per app instance (tests run several instances in one process).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The readiness statuses gomeet_readiness_status carries (those of http/readiness.ts). */
export const READINESS_LABELS = ["healthy", "degraded", "unhealthy"] as const;
export type ReadinessLabel = (typeof READINESS_LABELS)[number];

export class AppMetrics {
  readonly registry = new Registry();

  readonly wsConnections = new Gauge({
    name: "gomeet_ws_connections",
    help: "Open WebSocket connections on this instance",
    registers: [this.registry],
  });
  readonly wsMessagesIn = new Counter({
    name: "gomeet_ws_messages_in_total",
    help: "Client message frames received, by outcome (accepted, rate_limited, invalid_frame, quota_exceeded, unavailable, internal_error, read_only)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly wsMessagesOut = new Counter({
    name: "gomeet_ws_messages_out_total",
    help: "Room frames (message and presence) written to local sockets, counted once per socket",
    registers: [this.registry],
  });
  readonly wsClosed = new Counter({
    name: "gomeet_ws_closed_total",
    help: "WebSocket connections closed, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly slowConsumers = new Counter({
    name: "gomeet_ws_slow_consumers_total",
    help: "Connections closed (4000) because more than WS_MAX_BUFFERED_BYTES waited in their send buffer",
    registers: [this.registry],
  });
  readonly heartbeatTimeouts = new Counter({
    name: "gomeet_ws_heartbeat_timeouts_total",
    help: "Connections terminated because they did not answer a ping within one heartbeat interval",
    registers: [this.registry],
  });
  readonly fanoutLatency = new Histogram({
    name: "gomeet_fanout_latency_seconds",
    help: "From the append in Valkey (server clock) to the write to local sockets on this instance",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly recoveries = new Counter({
    name: "gomeet_ws_recoveries_total",
    help: "Connections that asked to resume with since=, by outcome (recovered, not_recovered)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly gapHeals = new Counter({
    name: "gomeet_fanout_gap_heals_total",
    help: "Messages delivered from history because the subscription missed them (reconnect, failover)",
    registers: [this.registry],
  });
  readonly tokenCache = new Counter({
    name: "gomeet_livekit_token_cache_total",
    help: "LiveKit token lookups by result (hit_memory, hit_redis, miss)",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly tokensSigned = new Counter({
    name: "gomeet_livekit_tokens_signed_total",
    help: "LiveKit tokens signed, by deployment",
    labelNames: ["deployment"] as const,
    registers: [this.registry],
  });
  readonly roomRepins = new Counter({
    name: "gomeet_livekit_room_repins_total",
    help: "Rooms moved to another LiveKit deployment because theirs was unhealthy",
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: "gomeet_dependency_up",
    help: "1 when the dependency is healthy as seen from this instance, else 0",
    labelNames: ["dependency", "name"] as const,
    registers: [this.registry],
  });
  readonly replicationLag = new Gauge({
    name: "gomeet_postgres_replication_lag_seconds",
    help:
      "REGION_ROLE=auto on a standby region: seconds its database is behind the primary region (0: everything received is replayed, " +
      "and on a primary). See app/src/db/region-role.ts for what an idle primary does to it",
    registers: [this.registry],
  });
  readonly regionRole = new Gauge({
    name: "gomeet_region_role",
    help: "REGION_ROLE=auto: 1 for the role this instance's database gives its region (primary, standby)",
    labelNames: ["role"] as const,
    registers: [this.registry],
  });
  readonly realtimeEpoch = new Gauge({
    name: "gomeet_realtime_epoch",
    help: "REGION_ROLE=auto: the realtime epoch (the database timeline the region writes on, or will once promoted); 0: unknown",
    registers: [this.registry],
  });
  readonly valkeyRecycles = new Counter({
    name: "gomeet_redis_recycles_total",
    help: "Times the Valkey command and subscribe connections were recycled (READONLY, role change)",
    registers: [this.registry],
  });
  readonly valkeyWritesRefused = new Gauge({
    name: "gomeet_redis_writes_refused",
    help: "1 while Valkey refuses writes from this instance (OOM: maxmemory reached with noeviction), else 0",
    registers: [this.registry],
  });
  readonly presencePurged = new Counter({
    name: "gomeet_presence_purged_total",
    help: "Presence members removed because their instance died or their heartbeat expired",
    registers: [this.registry],
  });
  readonly rateLimitChecks = new Counter({
    name: "gomeet_rate_limit_checks_total",
    help: "Per-user REST rate limit checks by action (room_create, token_issue) and result (allowed, limited, unavailable)",
    labelNames: ["action", "result"] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: "gomeet_http_requests_total",
    help: "HTTP requests by route and status",
    labelNames: ["route", "status"] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: "gomeet_http_request_duration_seconds",
    help: "HTTP request duration by route",
    labelNames: ["route"] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });

  /** What /readyz would answer right now; set once the app is wired (see {@link readinessFrom}). */
  private readinessSource?: () => { status: ReadinessLabel; ready: boolean };
  readonly ready = new Gauge({
    name: "gomeet_ready",
    help: "1 when /readyz answers 200 (the load balancer sends traffic here), 0 when it answers 503 (unhealthy or draining)",
    registers: [this.registry],
    collect: () => {
      const source = this.readinessSource?.();
      if (source !== undefined) this.ready.set(source.ready ? 1 : 0);
    },
  });
  readonly readinessStatus = new Gauge({
    name: "gomeet_readiness_status",
    help: "1 for the readiness status /readyz reports (healthy, degraded, unhealthy), 0 for the others",
    labelNames: ["status"] as const,
    registers: [this.registry],
    collect: () => {
      const source = this.readinessSource?.();
      if (source === undefined) return;
      for (const status of READINESS_LABELS) this.readinessStatus.set({ status }, status === source.status ? 1 : 0);
    },
  });

  constructor(instanceId: string) {
    this.registry.setDefaultLabels({ instance: instanceId });
    collectDefaultMetrics({ register: this.registry, prefix: "gomeet_" });
  }

  /** Makes gomeet_ready and gomeet_readiness_status report `source()` at every scrape. */
  readinessFrom(source: () => { status: ReadinessLabel; ready: boolean }): void {
    this.readinessSource = source;
  }
}
