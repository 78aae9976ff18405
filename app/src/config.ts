/**
 * Configuration: the environment parsed and validated once, at start.
 *
 * Every variable is documented in docs/service-contract.md's environment table. A bad value produces a
 * ServiceConfigError whose message names each offending variable and what it accepts; main.ts prints it
 * and exits 1.
 */
import fs from "node:fs";
import os from "node:os";
import { z } from "zod";
import { crossLimitProblems } from "./config-limits";

/**
 * One LiveKit deployment tokens can be issued for. (The variable that lists them keeps its historical name,
 * LIVEKIT_DATACENTERS: renaming it would break running stacks.)
 */
export interface LivekitDeployment {
  name: string;
  /** ws:// or wss:// URL handed to clients. */
  url: string;
  apiKey: string;
  apiSecret: string;
}

export type AuthConfig = { kind: "secret"; secret: string } | { kind: "jwks"; jwksUrl: string };

export interface ServiceConfig {
  port: number;
  /** The internal port of /metrics and the detailed /readyz (not behind the load balancer). */
  metricsPort: number;
  host: string;
  instanceId: string;
  logLevel: string;
  auth: AuthConfig;
  /** Optional `iss` / `aud` the app's own JWTs must carry. */
  authIssuer?: string;
  authAudience?: string;
  valkeyUrl: string;
  valkeyConnectTimeoutMs: number;
  /** How often the command connection's ROLE is checked (a demoted primary accepts PUBLISH silently). */
  valkeyRoleCheckIntervalMs: number;
  databaseUrl: string;
  databaseReplicaUrls: string[];
  dbConnectTimeoutMs: number;
  dbQueryTimeoutMs: number;
  dbPoolMax: number;
  dbHealthIntervalMs: number;
  /**
   * REGION_ROLE. primary: DATABASE_URL is a writable primary (a server in recovery there is a fault). auto: it may be a
   * standby region's read-only node; the instance learns its role from it (pg_is_in_recovery(), every
   * DB_HEALTH_INTERVAL_MS) and takes writes once it is promoted (docs/service-contract.md, "Standby region").
   */
  regionRole: "primary" | "auto";
  /** REGION_NAME: this instance's region, in /readyz (empty: not set). */
  regionName?: string;
  livekitDeployments: LivekitDeployment[];
  livekitHealthIntervalMs: number;
  livekitHealthTimeoutMs: number;
  livekitTokenTtlSeconds: number;
  wsMaxFrameBytes: number;
  wsMaxMessagesPerSecond: number;
  wsMaxBufferedBytes: number;
  /** A replay page is written only while the socket's send buffer holds less than this. */
  wsReplayHighWaterBytes: number;
  /** Most levels of nesting in a client message's `data` (deeper: invalid_frame). */
  wsMaxDataDepth: number;
  /** Most JSON values in a client message's `data` (more: invalid_frame). */
  wsMaxDataNodes: number;
  wsPublishBatchMs: number;
  wsDeliveryBatchMs: number;
  httpMaxBodyBytes: number;
  /** How long a client may take to send a request's headers / the whole request (else 408), and keep an idle connection. */
  httpHeadersTimeoutMs: number;
  httpRequestTimeoutMs: number;
  httpKeepAliveTimeoutMs: number;
  historyMaxLength: number;
  historyMaxAgeSeconds: number;
  historyReplayBatch: number;
  presenceTtlSeconds: number;
  heartbeatIntervalMs: number;
  shutdownDrainSeconds: number;
  /** Exact browser origins (`scheme://host[:port]`) answered with CORS headers and allowed to open /ws. Empty: none. */
  corsAllowedOrigins: string[];
  /** PEM of the CA that signs PostgreSQL's server certificate: set, every PostgreSQL connection is verify-full. */
  databaseCaCert?: string;
  /** PEM of the CA that signs Valkey's server certificate: set, the rediss:// connections verify certificate and host. */
  valkeyCaCert?: string;
  /** Per-user bounds (per window) of what WebSocket messages put into Valkey, over all the user's connections. */
  userQuota: { windowSeconds: number; maxMessages: number; maxBytes: number };
  /** Most bytes of message frames a room's history holds (oldest trimmed first). */
  historyMaxRoomBytes: number;
  /** Per instance: most open WebSocket connections of one user (more: the upgrade is refused with 429). */
  wsMaxSocketsPerUser: number;
  /** How long "room does not exist" is cached (s; 0: not cached). */
  roomMissCacheSeconds: number;
  /** Per instance: lookups of rooms that do not exist one user may make per RATE_LIMIT_WINDOW_SECONDS. */
  roomMissesPerWindow: number;
  /** Per-user limits (per window) of POST /rooms and POST /rooms/:id/token, counted in Valkey across instances. */
  rateLimits: { windowSeconds: number; roomCreates: number; livekitGrants: number };
}

export class ServiceConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ServiceConfigError";
  }
}

const int = (min: number, max: number, fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, `an integer between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min, `an integer between ${min} and ${max}`).max(max, `an integer between ${min} and ${max}`))
    .prefault(String(fallback));

/** A URL with one of `protocols` (e.g. "redis:") and a host. */
const urlWith = (protocols: readonly string[], description: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return protocols.includes(url.protocol) && url.hostname !== "";
      } catch {
        return false;
      }
    }, description);

const valkeyUrl = urlWith(["redis:", "rediss:"], "a redis:// or rediss:// URL with a host");
const postgresUrl = urlWith(["postgres:", "postgresql:"], "a postgres:// or postgresql:// URL with a host");
const websocketUrl = urlWith(["ws:", "wss:"], "a ws:// or wss:// URL");

const deployment = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 characters of A-Z a-z 0-9 _ . -"),
  url: websocketUrl,
  apiKey: z.string().min(1, "a non-empty string"),
  apiSecret: z.string().min(1, "a non-empty string"),
});

const deployments = z
  .string()
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "a JSON array of {name, url, apiKey, apiSecret}" });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(deployment, "a JSON array of {name, url, apiKey, apiSecret}")
      .min(1, "at least one {name, url, apiKey, apiSecret}")
      .refine((list) => new Set(list.map((d) => d.name)).size === list.length, "unique deployment names"),
  );

/**
 * One browser origin, exactly as browsers send it: `http(s)://host[:port]`, nothing after the authority.
 * Returned in the serialisation browsers use (lower-case host, default port dropped).
 */
export function parseOrigin(item: string): string {
  const problem = `"${item}" is not an origin: expected scheme://host[:port] (http or https) with no path, query, fragment or credentials`;
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(item)) throw new Error(problem);
  let url: URL;
  try {
    url = new URL(item);
  } catch {
    throw new Error(problem);
  }
  if (url.hostname === "") throw new Error(problem);
  return url.origin;
}

const origins = z.string().transform((text, ctx) => {
  const items = text
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  const parsed: string[] = [];
  for (const item of items) {
    try {
      parsed.push(parseOrigin(item));
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `a comma-separated list of exact origins; ${(error as Error).message}` });
      return z.NEVER;
    }
  }
  return [...new Set(parsed)];
});

/** A readable PEM file holding at least one certificate; the value is the PEM text. */
const caFile = z.string().transform((file, ctx) => {
  let pem: string;
  try {
    pem = fs.readFileSync(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    ctx.addIssue({ code: "custom", message: `a readable PEM file of CA certificates (${file}: ${reason})` });
    return z.NEVER;
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) {
    ctx.addIssue({ code: "custom", message: `a PEM file of CA certificates (${file} holds no "-----BEGIN CERTIFICATE-----")` });
    return z.NEVER;
  }
  return pem;
});

const envSchema = z.object({
  PORT: int(0, 65535, 8080),
  METRICS_PORT: int(0, 65535, 9091),
  HOST: z.string().trim().min(1, "a host or address to listen on").default("0.0.0.0"),
  INSTANCE_ID: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,128}$/, "1-128 characters of A-Z a-z 0-9 _ . -")
    .optional(),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], "one of fatal, error, warn, info, debug, trace, silent")
    .default("info"),
  AUTH_JWT_SECRET: z.string().min(32, "at least 32 characters (HS256 key)").optional(),
  AUTH_JWKS_URL: z.url({ protocol: /^https?$/, error: "an http(s) URL" }).optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),
  REDIS_URL: valkeyUrl,
  REDIS_CONNECT_TIMEOUT_MS: int(100, 60_000, 2000),
  REDIS_ROLE_CHECK_INTERVAL_MS: int(50, 60_000, 1000),
  DATABASE_URL: postgresUrl,
  DATABASE_REPLICA_URLS: z
    .string()
    .default("")
    .transform((text) =>
      text
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== ""),
    )
    .pipe(z.array(postgresUrl)),
  DB_CONNECT_TIMEOUT_MS: int(100, 60_000, 2000),
  DB_QUERY_TIMEOUT_MS: int(100, 600_000, 5000),
  DB_POOL_MAX: int(1, 1000, 10),
  DB_HEALTH_INTERVAL_MS: int(50, 600_000, 2000),
  REGION_ROLE: z.enum(["primary", "auto"], "primary or auto").default("primary"),
  REGION_NAME: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,31}$/, "1-32 characters of a-z 0-9 - (a region name)")
    .optional(),
  LIVEKIT_DATACENTERS: deployments,
  LIVEKIT_HEALTH_INTERVAL_MS: int(50, 600_000, 2000),
  LIVEKIT_HEALTH_TIMEOUT_MS: int(50, 60_000, 1000),
  LIVEKIT_TOKEN_TTL_SECONDS: int(60, 86_400, 3600),
  WS_MAX_FRAME_BYTES: int(64, 16 * 1024 * 1024, 64 * 1024),
  WS_MAX_MESSAGES_PER_SECOND: int(1, 100_000, 50),
  WS_MAX_BUFFERED_BYTES: int(1024, 1024 * 1024 * 1024, 4 * 1024 * 1024),
  WS_REPLAY_HIGH_WATER_BYTES: int(1024, 1024 * 1024 * 1024, 1024 * 1024),
  // JSON.stringify recurses: far below V8's stack limit (a few thousand levels), whatever the default.
  WS_MAX_DATA_DEPTH: int(1, 256, 32),
  WS_MAX_DATA_NODES: int(1, 1_000_000, 10_000),
  WS_PUBLISH_BATCH_MS: int(0, 100, 0),
  WS_DELIVERY_BATCH_MS: int(0, 100, 0),
  HTTP_MAX_BODY_BYTES: int(256, 16 * 1024 * 1024, 16 * 1024),
  HTTP_HEADERS_TIMEOUT_MS: int(1000, 600_000, 10_000),
  HTTP_REQUEST_TIMEOUT_MS: int(1000, 600_000, 30_000),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: int(1000, 600_000, 5000),
  HISTORY_MAX_LENGTH: int(1, 1_000_000, 1000),
  HISTORY_MAX_AGE_SECONDS: int(1, 30 * 86_400, 3600),
  HISTORY_REPLAY_BATCH: int(1, 10_000, 200),
  PRESENCE_TTL_SECONDS: int(1, 3600, 30),
  HEARTBEAT_INTERVAL_MS: int(50, 600_000, 10_000),
  SHUTDOWN_DRAIN_SECONDS: int(0, 600, 5),
  CORS_ALLOWED_ORIGINS: origins.default([]),
  DATABASE_CA_FILE: caFile.optional(),
  REDIS_CA_FILE: caFile.optional(),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 3600, 60),
  QUOTA_WINDOW_SECONDS: int(1, 3600, 60),
  QUOTA_USER_MESSAGES: int(1, 10_000_000, 1200),
  QUOTA_USER_BYTES: int(1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  HISTORY_MAX_ROOM_BYTES: int(64 * 1024, 1024 * 1024 * 1024, 16 * 1024 * 1024),
  WS_MAX_SOCKETS_PER_USER: int(1, 100_000, 20),
  ROOM_MISS_CACHE_SECONDS: int(0, 3600, 10),
  ROOM_MISSES_PER_WINDOW: int(1, 1_000_000, 60),
  RATE_LIMIT_ROOM_CREATES: int(1, 1_000_000, 20),
  RATE_LIMIT_LIVEKIT_GRANTS: int(1, 1_000_000, 120),
});

/** Parses and validates `env`; throws ServiceConfigError naming every bad variable. */
export function loadServiceConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    // An empty optional variable means "unset" (Kubernetes renders unset values as "").
    if (value !== undefined && (value !== "" || key === "DATABASE_REPLICA_URLS")) input[key] = value;
  }
  const parsed = envSchema.safeParse(input);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const variable = String(issue.path[0] ?? "environment");
      const detail = issue.path.length > 1 ? ` (at ${issue.path.slice(1).join(".")})` : "";
      const expected = issue.code === "invalid_type" && input[variable] === undefined ? "is required" : `must be ${issue.message}`;
      problems.push(`${variable}${detail} ${expected}`);
    }
  }
  if ((input.AUTH_JWT_SECRET === undefined) === (input.AUTH_JWKS_URL === undefined)) {
    problems.push("AUTH_JWT_SECRET / AUTH_JWKS_URL: set exactly one of them (an HS256 secret of at least 32 characters, or a JWKS URL)");
  }
  if (!parsed.success || problems.length > 0) throw new ServiceConfigError(problems);
  const e = parsed.data;
  const tlsProblems = [
    ...(e.DATABASE_CA_FILE === undefined
      ? []
      : [e.DATABASE_URL, ...e.DATABASE_REPLICA_URLS]
          .filter((url) => new URL(url).searchParams.get("sslmode") === "disable")
          .map(
            () =>
              "DATABASE_URL / DATABASE_REPLICA_URLS: sslmode=disable contradicts DATABASE_CA_FILE " +
              "(which makes every connection verify-full)",
          )),
    ...(e.REDIS_CA_FILE !== undefined && new URL(e.REDIS_URL).protocol !== "rediss:"
      ? ["REDIS_URL must be a rediss:// URL when REDIS_CA_FILE is set (the CA verifies a TLS connection)"]
      : []),
  ];
  if (tlsProblems.length > 0) throw new ServiceConfigError([...new Set(tlsProblems)]);
  const limitProblems = crossLimitProblems(e);
  if (limitProblems.length > 0) throw new ServiceConfigError(limitProblems);
  return {
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    host: e.HOST,
    instanceId: e.INSTANCE_ID ?? sanitizeHostname(os.hostname()),
    logLevel: e.LOG_LEVEL,
    auth:
      e.AUTH_JWT_SECRET !== undefined
        ? { kind: "secret", secret: e.AUTH_JWT_SECRET }
        : { kind: "jwks", jwksUrl: e.AUTH_JWKS_URL as string },
    authIssuer: e.AUTH_JWT_ISSUER,
    authAudience: e.AUTH_JWT_AUDIENCE,
    valkeyUrl: e.REDIS_URL,
    valkeyConnectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS,
    valkeyRoleCheckIntervalMs: e.REDIS_ROLE_CHECK_INTERVAL_MS,
    databaseUrl: e.DATABASE_URL,
    databaseReplicaUrls: e.DATABASE_REPLICA_URLS,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    dbQueryTimeoutMs: e.DB_QUERY_TIMEOUT_MS,
    dbPoolMax: e.DB_POOL_MAX,
    dbHealthIntervalMs: e.DB_HEALTH_INTERVAL_MS,
    regionRole: e.REGION_ROLE,
    regionName: e.REGION_NAME,
    livekitDeployments: e.LIVEKIT_DATACENTERS,
    livekitHealthIntervalMs: e.LIVEKIT_HEALTH_INTERVAL_MS,
    livekitHealthTimeoutMs: e.LIVEKIT_HEALTH_TIMEOUT_MS,
    livekitTokenTtlSeconds: e.LIVEKIT_TOKEN_TTL_SECONDS,
    wsMaxFrameBytes: e.WS_MAX_FRAME_BYTES,
    wsMaxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
    wsMaxBufferedBytes: e.WS_MAX_BUFFERED_BYTES,
    wsReplayHighWaterBytes: e.WS_REPLAY_HIGH_WATER_BYTES,
    wsMaxDataDepth: e.WS_MAX_DATA_DEPTH,
    wsMaxDataNodes: e.WS_MAX_DATA_NODES,
    wsPublishBatchMs: e.WS_PUBLISH_BATCH_MS,
    wsDeliveryBatchMs: e.WS_DELIVERY_BATCH_MS,
    httpMaxBodyBytes: e.HTTP_MAX_BODY_BYTES,
    httpHeadersTimeoutMs: e.HTTP_HEADERS_TIMEOUT_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    httpKeepAliveTimeoutMs: e.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    historyMaxLength: e.HISTORY_MAX_LENGTH,
    historyMaxAgeSeconds: e.HISTORY_MAX_AGE_SECONDS,
    historyReplayBatch: e.HISTORY_REPLAY_BATCH,
    presenceTtlSeconds: e.PRESENCE_TTL_SECONDS,
    heartbeatIntervalMs: e.HEARTBEAT_INTERVAL_MS,
    shutdownDrainSeconds: e.SHUTDOWN_DRAIN_SECONDS,
    corsAllowedOrigins: e.CORS_ALLOWED_ORIGINS,
    databaseCaCert: e.DATABASE_CA_FILE,
    valkeyCaCert: e.REDIS_CA_FILE,
    userQuota: { windowSeconds: e.QUOTA_WINDOW_SECONDS, maxMessages: e.QUOTA_USER_MESSAGES, maxBytes: e.QUOTA_USER_BYTES },
    historyMaxRoomBytes: e.HISTORY_MAX_ROOM_BYTES,
    wsMaxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
    roomMissCacheSeconds: e.ROOM_MISS_CACHE_SECONDS,
    roomMissesPerWindow: e.ROOM_MISSES_PER_WINDOW,
    rateLimits: {
      windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS,
      roomCreates: e.RATE_LIMIT_ROOM_CREATES,
      livekitGrants: e.RATE_LIMIT_LIVEKIT_GRANTS,
    },
  };
}

/** Hostnames may contain characters the instance id does not allow (it is part of Valkey keys). */
function sanitizeHostname(hostname: string): string {
  const cleaned = hostname.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 128);
  return cleaned === "" ? "instance" : cleaned;
}
