/**
 * The app's Kubernetes objects as plain functions of typed settings, so the HA properties (replicas,
 * rolling update, spread, probes, drain, PDB, HPA, load balancer annotations) read in one place.
 */
import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { DO_LOAD_BALANCER_ID_ANNOTATION, doLoadBalancerAnnotation, LIVEKIT_DEPLOYMENTS_ANNOTATION } from "./annotations";
import type { AppConfig } from "./config";
import { ROLLING_UPDATE_MAX_SURGE } from "./rollout";

type DeploymentSpec = k8s.types.input.apps.v1.DeploymentSpec;
type ServiceMetadata = k8s.types.input.meta.v1.ObjectMeta;

/** Port the container serves HTTP and WebSocket on (the load balancer's). */
export const APP_PORT = 8080;
/**
 * Port of /metrics and the detailed /readyz (the app's METRICS_PORT): not a port of the load-balanced Service, and
 * only the monitoring namespace may reach it (security-manifests.ts, allow-monitoring-scrape).
 */
export const METRICS_PORT = 9091;
/** Seconds the preStop hook waits so the load balancer stops sending new connections before drain starts. */
export const PRE_STOP_SECONDS = 10;
/** Keys of the app Secret; each becomes an env var of the same name (AUTH_JWT_SECRET only without a JWKS URL). */
export const SECRET_KEYS = ["DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_URL", "LIVEKIT_DATACENTERS", "AUTH_JWT_SECRET"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** The Secret's keys for this app: users' tokens are verified with the generated secret, or with the JWKS URL. */
export function secretKeys(app: AppConfig): SecretKey[] {
  return SECRET_KEYS.filter((key) => key !== "AUTH_JWT_SECRET" || app.jwksUrl === undefined);
}

/** Where the databases' CA certificates are mounted, and the ConfigMap keys they come from. */
export const DATABASE_CA_DIR = "/etc/gomeet/database-ca";
export const DATABASE_CA_KEYS = { postgres: "postgres-ca.crt", valkey: "valkey-ca.crt" } as const;

/**
 * Pod annotation holding the sha256 of the app Secret's content. Env vars come from `secretKeyRef`, which
 * Kubernetes resolves only when a pod starts: without this a changed Secret would leave the running pods on the
 * old values. With it, a changed value changes the pod template, and the Deployment rolls its pods (the
 * `checksum/...` annotation Helm charts use for the same reason).
 */
export const SECRET_CHECKSUM_ANNOTATION = "checksum/secret";

/**
 * sha256 (hex) of a Secret's data, independent of key order. Not secret: the content includes a generated
 * 64-character key, so the hash reveals nothing that could be guessed back.
 */
export function secretChecksum(data: Record<string, string>): string {
  const entries = Object.keys(data)
    .sort()
    .map((key) => [key, data[key]]);
  return createHash("sha256").update(JSON.stringify(entries)).digest("hex");
}

/** Labels that select the app's pods. */
export function appLabels(): Record<string, string> {
  return { "app.kubernetes.io/name": "gomeet", "app.kubernetes.io/component": "realtime" };
}

/** Settings the Deployment is built from. */
export interface DeploymentSettings {
  app: AppConfig;
  secretName: pulumi.Input<string>;
  /** {@link secretChecksum} of the Secret's content (a plain, non-secret Output). */
  secretChecksum: pulumi.Input<string>;
  livekitNames: string[];
  /** The app's ServiceAccount and PriorityClass (security-baseline.ts). */
  serviceAccountName: pulumi.Input<string>;
  priorityClassName: pulumi.Input<string>;
  /** ConfigMap holding DigitalOcean's CA certificates of PostgreSQL and Valkey ({@link DATABASE_CA_KEYS}). */
  databaseCaConfigMap: pulumi.Input<string>;
  /**
   * In a stack with a standby region: the instance's region, and REGION_ROLE=auto (it learns from its database whether
   * it is the primary region or a standby whose writes wait for a promotion; docs/service-contract.md, "Standby region").
   */
  region?: string;
}

/** Environment of the browser-facing, auth and abuse settings (plain values: none is secret). */
function securityEnv(app: AppConfig): Array<{ name: string; value: string }> {
  return [
    { name: "CORS_ALLOWED_ORIGINS", value: app.allowedOrigins.join(",") },
    ...(app.jwksUrl === undefined ? [] : [{ name: "AUTH_JWKS_URL", value: app.jwksUrl }]),
    // The `iss` / `aud` users' tokens must carry (required on a production stack: config.ts).
    ...(app.jwtIssuer === undefined ? [] : [{ name: "AUTH_JWT_ISSUER", value: app.jwtIssuer }]),
    ...(app.jwtAudience === undefined ? [] : [{ name: "AUTH_JWT_AUDIENCE", value: app.jwtAudience }]),
    { name: "RATE_LIMIT_WINDOW_SECONDS", value: String(app.rateLimits.windowSeconds) },
    { name: "RATE_LIMIT_ROOM_CREATES", value: String(app.rateLimits.roomCreates) },
    { name: "RATE_LIMIT_LIVEKIT_GRANTS", value: String(app.rateLimits.livekitGrants) },
    // Every database connection verifies the server's certificate and name against DigitalOcean's CA.
    { name: "DATABASE_CA_FILE", value: `${DATABASE_CA_DIR}/${DATABASE_CA_KEYS.postgres}` },
    { name: "REDIS_CA_FILE", value: `${DATABASE_CA_DIR}/${DATABASE_CA_KEYS.valkey}` },
  ];
}

/** Grace period: preStop wait + the app's own WebSocket drain + a margin for closing pools. */
export function terminationGraceSeconds(app: AppConfig): number {
  return PRE_STOP_SECONDS + app.drainSeconds + 15;
}

/** The Deployment spec: N replicas spread over nodes, zero-downtime rolling update, probes, hardening. */
export function deploymentSpec(s: DeploymentSettings): DeploymentSpec {
  const labels = appLabels();
  const httpGet = (path: string) => ({ path, port: "http" });
  return {
    replicas: s.app.replicas,
    minReadySeconds: 10,
    revisionHistoryLimit: 5,
    strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: ROLLING_UPDATE_MAX_SURGE } },
    selector: { matchLabels: labels },
    template: {
      metadata: {
        labels,
        annotations: { [LIVEKIT_DEPLOYMENTS_ANNOTATION]: s.livekitNames.join(","), [SECRET_CHECKSUM_ANNOTATION]: s.secretChecksum },
      },
      spec: {
        serviceAccountName: s.serviceAccountName,
        automountServiceAccountToken: false,
        priorityClassName: s.priorityClassName,
        terminationGracePeriodSeconds: terminationGraceSeconds(s.app),
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          fsGroup: 1000,
          seccompProfile: { type: "RuntimeDefault" },
        },
        // One pod per node: with externalTrafficPolicy Local (see serviceSpec) the load balancer's /readyz check through a
        // node's NodePort reaches that node's pod, so each backend's health is exactly one pod's readiness, and the
        // load balancer's even split across nodes is an even split across pods. maxReplicas + surge ≤ maxNodes (config-limits.ts).
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
              { labelSelector: { matchLabels: labels }, topologyKey: "kubernetes.io/hostname" },
            ],
          },
        },
        topologySpreadConstraints: [
          { maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "DoNotSchedule", labelSelector: { matchLabels: labels } },
          {
            maxSkew: 1,
            topologyKey: "topology.kubernetes.io/zone",
            whenUnsatisfiable: "ScheduleAnyway",
            labelSelector: { matchLabels: labels },
          },
        ],
        containers: [
          {
            name: "app",
            image: s.app.image,
            imagePullPolicy: "IfNotPresent",
            ports: [
              { name: "http", containerPort: APP_PORT, protocol: "TCP" },
              { name: "metrics", containerPort: METRICS_PORT, protocol: "TCP" },
            ],
            env: [
              { name: "PORT", value: String(APP_PORT) },
              { name: "METRICS_PORT", value: String(METRICS_PORT) },
              { name: "LOG_LEVEL", value: s.app.logLevel },
              { name: "SHUTDOWN_DRAIN_SECONDS", value: String(s.app.drainSeconds) },
              { name: "WS_PUBLISH_BATCH_MS", value: String(s.app.publishBatchMs) },
              { name: "WS_DELIVERY_BATCH_MS", value: String(s.app.deliveryBatchMs) },
              { name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ...(s.region === undefined
                ? []
                : [
                    { name: "REGION_NAME", value: s.region },
                    { name: "REGION_ROLE", value: "auto" },
                  ]),
              ...securityEnv(s.app),
              ...secretKeys(s.app).map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: s.secretName, key } } })),
            ],
            resources: { requests: { ...s.app.requests }, limits: { ...s.app.limits } },
            startupProbe: { httpGet: httpGet("/healthz"), periodSeconds: 2, failureThreshold: 30, timeoutSeconds: 2 },
            readinessProbe: { httpGet: httpGet("/readyz"), periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 2 },
            livenessProbe: { httpGet: httpGet("/healthz"), periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 2 },
            lifecycle: { preStop: { exec: { command: ["sleep", String(PRE_STOP_SECONDS)] } } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              privileged: false,
              capabilities: { drop: ["ALL"] },
            },
            volumeMounts: [
              { name: "tmp", mountPath: "/tmp" },
              { name: "database-ca", mountPath: DATABASE_CA_DIR, readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
          { name: "database-ca", configMap: { name: s.databaseCaConfigMap } },
        ],
      },
    },
  };
}

/** Settings of the public load balancer. */
export interface LoadBalancerSettings {
  /** The load balancer's name at DigitalOcean. */
  name: string;
  app: AppConfig;
  /** Name of a DigitalOcean certificate for the domain, when TLS is on. */
  certificateName?: pulumi.Input<string>;
}

/**
 * DigitalOcean load balancer annotations: a REGIONAL (HTTP-capable) LB, health checks on /readyz that take
 * an instance out after 3 failures, an idle timeout that keeps WebSockets open, TLS and redirect with a domain.
 * Values are strings: Kubernetes annotations are, and the CCM parses them.
 */
export function loadBalancerAnnotations(s: LoadBalancerSettings): Record<string, pulumi.Input<string>> {
  const annotations: Record<string, pulumi.Input<string>> = {
    [doLoadBalancerAnnotation("type")]: "REGIONAL",
    [doLoadBalancerAnnotation("name")]: s.name,
    [doLoadBalancerAnnotation("protocol")]: "http",
    [doLoadBalancerAnnotation("size-unit")]: String(s.app.loadBalancerSizeUnit),
    [doLoadBalancerAnnotation("override-health-check")]: "true",
    [doLoadBalancerAnnotation("healthcheck-path")]: "/readyz",
    [doLoadBalancerAnnotation("healthcheck-protocol")]: "http",
    [doLoadBalancerAnnotation("healthcheck-port")]: "80",
    [doLoadBalancerAnnotation("healthcheck-check-interval-seconds")]: "5",
    [doLoadBalancerAnnotation("healthcheck-response-timeout-seconds")]: "3",
    [doLoadBalancerAnnotation("healthcheck-unhealthy-threshold")]: "3",
    [doLoadBalancerAnnotation("healthcheck-healthy-threshold")]: "2",
    [doLoadBalancerAnnotation("http-idle-timeout-seconds")]: String(s.app.websocketIdleTimeoutSeconds),
  };
  if (s.certificateName !== undefined) {
    annotations[doLoadBalancerAnnotation("certificate-name")] = s.certificateName;
    annotations[doLoadBalancerAnnotation("tls-ports")] = "443";
    annotations[doLoadBalancerAnnotation("redirect-http-to-https")] = "true";
    // With a Let's Encrypt certificate DigitalOcean otherwise creates DNS records for the certificate's domain on the load
    // balancer, taking over the zone apex (digitalocean/digitalocean-cloud-controller-manager@
    // 70d527e38456469eadcf69624228eeaa4c0fec37:docs/controllers/services/annotations.md,
    // do-loadbalancer-disable-lets-encrypt-dns-records, default "false"). The stack's own DnsRecord names the host.
    annotations[doLoadBalancerAnnotation("disable-lets-encrypt-dns-records")] = "true";
  }
  return annotations;
}

/** Service ports: 80, plus 443 when TLS terminates at the load balancer. */
export function servicePorts(tls: boolean): k8s.types.input.core.v1.ServicePort[] {
  const http = { name: "http", port: 80, targetPort: "http", protocol: "TCP" };
  return tls ? [http, { name: "https", port: 443, targetPort: "http", protocol: "TCP" }] : [http];
}

/**
 * The load-balanced Service. `externalTrafficPolicy: Local`: a node forwards load balancer traffic (and the health
 * check) only to its own pod, so the /readyz check of a node reports that node's pod; with `Cluster` it would reach a
 * random pod anywhere, and a node would stay "healthy" while its own pod is not. Nodes without a pod fail the check
 * and get no traffic (see the CCM's health check notes, digitalocean/digitalocean-cloud-controller-manager@
 * 70d527e38456469eadcf69624228eeaa4c0fec37:docs/getting-started.md, "Health check configuration"). Local also keeps
 * the client's address (no SNAT).
 */
export function serviceSpec(tls: boolean): k8s.types.input.core.v1.ServiceSpec {
  return { type: "LoadBalancer", externalTrafficPolicy: "Local", selector: appLabels(), ports: servicePorts(tls) };
}

/**
 * The load balancer id from a ready Service's annotations (the CCM's {@link DO_LOAD_BALANCER_ID_ANNOTATION}); a
 * clear error when the CCM has not written it. Looking the load balancer up by name instead fails on zero or
 * several matches, e.g. an orphan left by a replaced cluster.
 */
export function loadBalancerIdOf(loadBalancerName: string, annotations: Record<string, string> | undefined): string {
  const id = annotations?.[DO_LOAD_BALANCER_ID_ANNOTATION];
  if (!id) {
    throw new Error(
      `load balancer ${loadBalancerName}: the Service is ready but has no ${DO_LOAD_BALANCER_ID_ANNOTATION} annotation ` +
        "(the DigitalOcean cloud controller writes it with the load balancer); the load balancer alerts cannot name it",
    );
  }
  return id;
}

/** Metadata of the load-balanced Service. */
export function serviceMetadata(namespace: pulumi.Input<string>, s: LoadBalancerSettings): ServiceMetadata {
  return { name: "gomeet", namespace, labels: appLabels(), annotations: loadBalancerAnnotations(s) };
}
