/**
 * Stack configuration: every `gomeet:*` key is read here once, validated, and handed to the components
 * as plain typed values (secrets as secret Outputs). A missing or bad value stops the program with a
 * `ConfigError` that names the key, what was found and what is accepted.
 */
import * as pulumi from "@pulumi/pulumi";
import * as digitalocean from "@pulumi/digitalocean";
import { z } from "zod";
import { configProblems } from "./config-limits";
import { ConfigError, validateKey } from "./config-error";
import { cidrsOverlap, isPrivateCidr, parseCidr } from "./provider-facts/cidr";
import { PROVIDER_FACTS } from "./provider-facts/facts";
import { jwtClaim, missingJwtClaimInProduction } from "./jwt-claims";
import { TYPE } from "./type-tokens";

export const CONFIG_NAMESPACE = "gomeet";
export { ConfigError, validateKey };

/** DigitalOcean regions the provider knows. */
export const REGIONS = Object.values(digitalocean.Region) as [string, ...string[]];

const DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "a time as HH:MM (24 h, UTC)");
const slug = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "a DigitalOcean size slug such as s-4vcpu-8gb");
const cpu = z.string().regex(/^(\d+m|\d+(\.\d+)?)$/, "a Kubernetes CPU quantity such as 250m or 1");
const memory = z.string().regex(/^\d+(Ki|Mi|Gi)$/, "a Kubernetes memory quantity such as 256Mi or 1Gi");
const count = (min: number, max: number) => z.int().min(min).max(max);

/**
 * The VPC range: DigitalOcean takes an RFC 1918 range from /16 to /28 that overlaps no other VPC of the account
 * (digitalocean/openapi specification/resources/vpcs/models/vpc.yml, ip_range; the bounds are read from the
 * provider facts), so every stack of one account needs its own range.
 */
const VPC_PREFIX = PROVIDER_FACTS.resources[TYPE.vpc]!.properties.ipRange!.rules!.find((r) => r.privateCidrPrefix)!.privateCidrPrefix!;
const networkSchema = z
  .object({
    ipRange: z.string().refine((r) => {
      const c = parseCidr(r);
      return !!c && isPrivateCidr(r) && c.prefix >= VPC_PREFIX.min && c.prefix <= VPC_PREFIX.max;
    }, `a private (RFC 1918) IPv4 range from /${VPC_PREFIX.min} to /${VPC_PREFIX.max} such as 10.20.0.0/16, distinct for each stack of the account`),
  })
  .strict();

const kubernetesSchema = z
  .object({
    versionPrefix: z.string().regex(/^\d+\.\d+\.$/, 'a minor version prefix such as "1.33."'),
    nodeSize: slug,
    minNodes: count(1, 100),
    maxNodes: count(1, 100),
    maintenanceDay: z.enum(DAYS).default("sunday"),
    maintenanceStartTime: hhmm.default("04:00"),
  })
  .strict()
  .refine((k) => k.maxNodes >= k.minNodes, { message: "maxNodes must be ≥ minNodes", path: ["maxNodes"] });

const maintenanceWindow = z
  .object({ day: z.enum(DAYS).default("sunday"), hour: hhmm.default("03:00") })
  .strict()
  .default({ day: "sunday", hour: "03:00" });

const postgresSchema = z
  .object({
    version: z.enum(["14", "15", "16", "17"]),
    size: slug,
    nodeCount: count(1, 3),
    readReplicas: count(0, 5),
    replicaSize: slug.optional(),
    poolSize: count(1, 200),
    database: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("gomeet"),
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .default("gomeet"),
    maintenance: maintenanceWindow,
  })
  .strict();

const valkeySchema = z
  .object({
    version: z.enum(["7", "8"]),
    size: slug,
    nodeCount: count(1, 3),
    evictionPolicy: z
      .enum(["noeviction", "allkeys_lru", "allkeys_random", "volatile_lru", "volatile_random", "volatile_ttl"])
      .default("noeviction"),
    maintenance: maintenanceWindow,
  })
  .strict();

const resourcesSchema = z.object({ cpu, memory }).strict();

/**
 * One browser origin, `http(s)://host[:port]` with nothing after it, returned as browsers send it (lower-case host,
 * default port dropped). The same rule as the app's CORS_ALLOWED_ORIGINS (app/src/config.ts `parseOrigin`; the
 * infra program does not import the app: test/infra/security-config.test.ts checks they agree).
 */
export function stackOrigin(item: string): string | undefined {
  if (!/^https?:\/\/[^/?#@\s]+$/i.test(item)) return undefined;
  try {
    const url = new URL(item);
    return url.hostname === "" ? undefined : url.origin;
  } catch {
    return undefined;
  }
}

const browserOrigin = z.string().transform((item, ctx) => {
  const origin = stackOrigin(item);
  if (origin !== undefined) return origin;
  ctx.addIssue({ code: "custom", message: "an origin: scheme://host[:port] (http or https) with no path, query, fragment or credentials" });
  return z.NEVER;
});

const appSchema = z
  .object({
    image: z
      .string()
      .regex(
        /^[a-z0-9.\-/:_]+(@sha256:[a-f0-9]{64}|:[A-Za-z0-9_.-]+)$/,
        "an image reference with a tag or digest, e.g. registry.digitalocean.com/gomeet/app:1.4.2",
      ),
    replicas: count(1, 50),
    maxReplicas: count(1, 200),
    minAvailable: count(1, 50).default(2),
    requests: resourcesSchema,
    limits: resourcesSchema,
    logLevel: z.enum(["trace", "debug", "info", "warn", "error"]).default("info"),
    websocketIdleTimeoutSeconds: count(30, 600).default(600),
    drainSeconds: count(5, 300).default(30),
    /** WS_PUBLISH_BATCH_MS / WS_DELIVERY_BATCH_MS: 0 = latency first; 5 / 10 = 20-40 % less CPU under load, p99 about +10 ms. */
    publishBatchMs: count(0, 100).default(0),
    deliveryBatchMs: count(0, 100).default(0),
    loadBalancerSizeUnit: count(1, 100).default(2),
    /** CORS_ALLOWED_ORIGINS: browser origins (scheme://host[:port]) that may call the API and open WebSockets. */
    allowedOrigins: z.array(browserOrigin).default([]),
    /** AUTH_JWKS_URL: verify users' tokens with this key set instead of the generated HS256 secret. */
    jwksUrl: z.url({ protocol: /^https$/, error: "an https:// URL of a JSON Web Key Set" }).optional(),
    /** AUTH_JWT_ISSUER / AUTH_JWT_AUDIENCE: the `iss` and `aud` users' tokens must carry. Required on a production stack. */
    jwtIssuer: jwtClaim.optional(),
    jwtAudience: jwtClaim.optional(),
    /** RATE_LIMIT_*: per-user limits of room creation and LiveKit token requests, per window. */
    rateLimits: z
      .object({
        windowSeconds: count(1, 3600).default(60),
        roomCreates: count(1, 1_000_000).default(20),
        livekitGrants: count(1, 1_000_000).default(120),
      })
      .strict()
      .default({ windowSeconds: 60, roomCreates: 20, livekitGrants: 120 }),
  })
  .strict()
  .refine((a) => a.maxReplicas >= a.replicas, { message: "maxReplicas must be ≥ replicas", path: ["maxReplicas"] });

const smtpSchema = z
  .object({
    smarthost: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, "host:port of an SMTP relay, e.g. smtp.example.com:587"),
    from: z.email(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.username === undefined) === (s.password === undefined), {
    message: "username and password go together",
    path: ["password"],
  });

const alertsSchema = z
  .object({
    emails: z.array(z.email()).min(1),
    /** Alertmanager's email relay (DigitalOcean's monitor alerts send their own mail; Alertmanager needs one). */
    smtp: smtpSchema,
    slack: z
      .object({ channel: z.string().min(1), webhookUrl: z.url() })
      .strict()
      .optional(),
    /** p99 at the load balancer (the app's response-time target). */
    responseTimeMs: count(10, 60000).default(100),
    /** The public endpoint from the nearest uptime probe region, internet path and TLS handshake included. */
    uptimeLatencyMs: count(100, 60000).default(1000),
    /** 5xx responses at the load balancer in 5 minutes above which someone is paged. */
    max5xxPer5m: count(1, 100000).default(50),
    uptimeTargetPercent: z.number().min(90).max(99.999).default(99.9),
  })
  .strict();

const byteSize = z.string().regex(/^\d+(\.\d+)?(K|M|G|T)iB$/, "a size such as 8GiB");
const monitoringSchema = z
  .object({
    retention: z
      .string()
      .regex(/^\d+(h|d|w)$/, "a Prometheus duration such as 15d")
      .default("15d"),
    retentionSize: byteSize.default("8GiB"),
    storageSize: memory.default("10Gi"),
    runbookBaseUrl: z.url().optional(),
  })
  .strict()
  .default({ retention: "15d", retentionSize: "8GiB", storageSize: "10Gi" });

const domainSchema = z
  .object({
    host: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "a fully qualified host name such as meet.example.com"),
    zone: z.string().regex(/^([a-z0-9-]+\.)+[a-z]{2,}$/, "a DigitalOcean-managed domain such as example.com"),
  })
  .strict()
  .refine((d) => d.host === d.zone || d.host.endsWith(`.${d.zone}`), {
    message: "host must be the zone or a name inside it",
    path: ["host"],
  });

const livekitSchema = z
  .array(
    z
      .object({
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/, "a short lowercase name such as nyc"),
        url: z.string().regex(/^wss?:\/\/[^\s/]+/, "a ws:// or wss:// URL"),
        apiKey: z.string().min(1),
        apiSecret: z.string().min(1),
      })
      .strict(),
  )
  .min(1)
  .refine((l) => new Set(l.map((d) => d.name)).size === l.length, { message: "deployment names must be unique" });

/**
 * `gomeet:standby`: a second region that takes over when the primary region is lost (docs/architecture.md, "Two
 * regions"). Absent: one region (staging). The standby region's VPC needs its own range: VPC ranges may not overlap
 * within one account, and the two VPCs are separate networks (no peering: the cross-region read-only node replicates
 * over DigitalOcean's own network, its clients are in its own VPC).
 */
const standbySchema = z
  .object({
    region: z.enum(REGIONS),
    network: networkSchema,
    /** automatic: the controller in the standby cluster fails over on its own; manual: it only detects and alerts. */
    failover: z.enum(["automatic", "manual"]).default("automatic"),
    /** The Global Load Balancer's failover threshold (percent of unhealthy targets in a region before it moves traffic). */
    failoverThresholdPercent: count(1, 99).default(50),
    /** The primary is declared lost when every vantage point has seen it down for this long (the RTO's detection part). */
    detectionWindowSeconds: count(30, 1800).default(120),
    /** How often each vantage point probes. */
    probeIntervalSeconds: count(5, 300).default(15),
    /** Replication lag of the cross-region node above which GoMeetStandbyReplicationLagHigh fires: the RPO. */
    maxReplicationLagSeconds: count(1, 3600).default(60),
    /**
     * After a failover (docs/runbooks.md, "Reconcile the stack after a region failover"): the id (uuid) of the node
     * that was promoted. The standby region's cell then owns the primary database cluster (imported, not created),
     * and the old primary region's database is no longer declared.
     */
    promoted: z
      .object({ postgresClusterId: z.uuid({ error: "the promoted database cluster's id (a uuid, `doctl databases list`)" }) })
      .strict()
      .optional(),
  })
  .strict();

export type NetworkConfig = z.infer<typeof networkSchema>;
export type KubernetesConfig = z.infer<typeof kubernetesSchema>;
export type PostgresConfig = z.infer<typeof postgresSchema>;
export type ValkeyConfig = z.infer<typeof valkeySchema>;
export type AppConfig = z.infer<typeof appSchema>;
export type DomainConfig = z.infer<typeof domainSchema>;
export type MonitoringConfig = z.infer<typeof monitoringSchema>;
export type LivekitDeployment = z.infer<typeof livekitSchema>[number];
export type StandbyConfig = z.infer<typeof standbySchema>;

/** Alertmanager's SMTP relay; the password is a secret. */
export interface SmtpConfig {
  smarthost: string;
  from: string;
  username?: string;
  password?: pulumi.Output<string>;
}

/** Alerting config; the Slack webhook is a secret. */
export interface AlertsConfig {
  emails: string[];
  smtp: SmtpConfig;
  slack?: { channel: string; webhookUrl: pulumi.Output<string> };
  responseTimeMs: number;
  uptimeLatencyMs: number;
  max5xxPer5m: number;
  uptimeTargetPercent: number;
}

/** The validated stack configuration. */
export interface StackConfig {
  /** Stack name, used as a suffix in resource names. */
  stack: string;
  region: string;
  network: NetworkConfig;
  kubernetes: KubernetesConfig;
  postgres: PostgresConfig;
  valkey: ValkeyConfig;
  app: AppConfig;
  alerts: AlertsConfig;
  /** kube-prometheus-stack: retention, storage, runbook links. */
  monitoring: MonitoringConfig;
  domain?: DomainConfig;
  /** LiveKit deployments, whole as a secret (it carries API secrets). */
  livekit: pulumi.Output<LivekitDeployment[]>;
  /** Their names, which are not secret: the scorecard and the pod annotation use them. */
  livekitNames: string[];
  /** TCP ports of the LiveKit URLs (443 for wss:// without a port): the app's egress to LiveKit. Not secret. */
  livekitPorts: number[];
  /** The standby region, when the stack has two (`gomeet:standby`). */
  standby?: StandbyConfig;
  /** `gomeet:failoverToken`: the DigitalOcean API token the failover controller acts with (secret; set with a standby). */
  failoverToken?: pulumi.Output<string>;
}

function readRaw(name: string): unknown {
  const key = `${CONFIG_NAMESPACE}:${name}`;
  const text = pulumi.runtime.getConfig(key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text; // a plain string value
  }
}

/** Reads and validates the whole `gomeet:*` configuration of the current stack. */
export function loadConfig(): StackConfig {
  const key = (name: string) => `${CONFIG_NAMESPACE}:${name}`;
  const region = validateKey(key("region"), z.enum(REGIONS), readRaw("region"));
  const network = validateKey(key("network"), networkSchema, readRaw("network"));
  const kubernetes = validateKey(key("kubernetes"), kubernetesSchema, readRaw("kubernetes"));
  const postgres = validateKey(key("postgres"), postgresSchema, readRaw("postgres"));
  const valkey = validateKey(key("valkey"), valkeySchema, readRaw("valkey"));
  const app = validateKey(key("app"), appSchema, readRaw("app"));
  const alerts = validateKey(key("alerts"), alertsSchema, readRaw("alerts"));
  const monitoring = validateKey(key("monitoring"), monitoringSchema, readRaw("monitoring"));
  const rawDomain = readRaw("domain");
  const domain = rawDomain === undefined ? undefined : validateKey(key("domain"), domainSchema, rawDomain);
  const livekit = validateKey(key("livekit"), livekitSchema, readRaw("livekit"), true);
  // Across keys, and what DigitalOcean refuses (sizes, node counts): config-limits.ts.
  const [problem] = configProblems({ kubernetes, postgres, valkey, app });
  if (problem !== undefined) throw new ConfigError(problem.key, problem.detail);
  const rawStandby = readRaw("standby");
  const standby = rawStandby === undefined ? undefined : validateKey(key("standby"), standbySchema, rawStandby);
  if (standby) checkStandby(standby, region, network.ipRange);
  const rawToken = readRaw("failoverToken");
  if (standby && rawToken === undefined) {
    throw new ConfigError(key("failoverToken"), "missing; expected the DigitalOcean API token (secret) the failover controller acts with");
  }
  const failoverToken = rawToken === undefined ? undefined : validateKey(key("failoverToken"), z.string().min(1), rawToken, true);
  const missingClaim = missingJwtClaimInProduction(pulumi.getStack(), app);
  if (missingClaim) throw new ConfigError(key(`app.${missingClaim.name}`), missingClaim.detail);
  return {
    stack: pulumi.getStack(),
    region,
    network,
    kubernetes,
    postgres,
    valkey,
    app,
    alerts: {
      ...alerts,
      smtp: { ...alerts.smtp, password: alerts.smtp.password === undefined ? undefined : pulumi.secret(alerts.smtp.password) },
      slack: alerts.slack && { channel: alerts.slack.channel, webhookUrl: pulumi.secret(alerts.slack.webhookUrl) },
    },
    monitoring,
    domain,
    livekit: pulumi.secret(livekit),
    livekitNames: livekit.map((d) => d.name),
    livekitPorts: urlPorts(livekit.map((d) => d.url)),
    standby,
    failoverToken: failoverToken === undefined ? undefined : pulumi.secret(failoverToken),
  };
}

/** The standby is another region, in a VPC range that overlaps the primary's in no address. */
export function checkStandby(standby: StandbyConfig, region: string, primaryRange: string): void {
  const key = `${CONFIG_NAMESPACE}:standby`;
  if (standby.region === region) {
    throw new ConfigError(`${key}.region`, `got ${JSON.stringify(region)}; expected another region than gomeet:region (${region})`);
  }
  if (cidrsOverlap(standby.network.ipRange, primaryRange)) {
    throw new ConfigError(
      `${key}.network.ipRange`,
      `got ${JSON.stringify(standby.network.ipRange)}; expected a range that does not overlap gomeet:network.ipRange (${primaryRange})`,
    );
  }
}

/** The distinct TCP ports of URLs (ws/http: 80, wss/https: 443 unless the URL names one), sorted. */
export function urlPorts(urls: readonly string[]): number[] {
  const defaults: Record<string, number> = { "ws:": 80, "http:": 80, "wss:": 443, "https:": 443 };
  const ports = urls.map((text) => {
    const url = new URL(text);
    return url.port !== "" ? Number(url.port) : (defaults[url.protocol] ?? 443);
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}
