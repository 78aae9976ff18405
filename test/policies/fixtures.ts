/**
 * Planned-resource fixtures for the policy tests: the stack the infra program emits (see the resource
 * catalogue), built from a few knobs.
 */
import type { PlannedResource } from "../../policies/plan";

// Editing a plan and running the pack over it live in plan-edits.ts; re-exported so every test imports one module.
export { editProps, editResource, messagesOf, resourceNamed, violationsOf, without } from "./plan-edits";

/** The settings that differ between stacks or that tests turn. */
export interface StackKnobs {
  stack: string;
  postgresNodeCount: number;
  readReplicas: number;
  valkeyNodeCount: number;
  valkeyEngine: string;
  evictionPolicy: string;
  doksHa: boolean;
  minNodes: number;
  surgeUpgrade: boolean;
  appReplicas: number;
  pdbMinAvailable: number | string;
  hpaMinReplicas: number;
  livekitDeployments: string[];
  image: string;
  idleTimeoutSeconds: string;
}

export const PROD: Readonly<StackKnobs> = Object.freeze({
  stack: "prod",
  postgresNodeCount: 2,
  readReplicas: 1,
  valkeyNodeCount: 2,
  valkeyEngine: "valkey",
  evictionPolicy: "noeviction",
  doksHa: true,
  minNodes: 3,
  surgeUpgrade: true,
  appReplicas: 3,
  pdbMinAvailable: 2,
  hpaMinReplicas: 3,
  livekitDeployments: ["nyc", "ams"],
  image: "registry.digitalocean.com/gomeet/app:0.1.0",
  idleTimeoutSeconds: "600",
});

/** Staging as the lead's Pulumi.staging.yaml makes it: single database nodes, smaller floors. */
export const STAGING: Readonly<StackKnobs> = Object.freeze({
  ...PROD,
  stack: "staging",
  postgresNodeCount: 1,
  readReplicas: 0,
  valkeyNodeCount: 1,
  minNodes: 2,
  appReplicas: 2,
  pdbMinAvailable: 1,
  hpaMinReplicas: 2,
  livekitDeployments: ["staging"],
});

export const TYPES = {
  vpc: "digitalocean:index/vpc:Vpc",
  doks: "digitalocean:index/kubernetesCluster:KubernetesCluster",
  cluster: "digitalocean:index/databaseCluster:DatabaseCluster",
  replica: "digitalocean:index/databaseReplica:DatabaseReplica",
  firewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
  db: "digitalocean:index/databaseDb:DatabaseDb",
  user: "digitalocean:index/databaseUser:DatabaseUser",
  pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
  monitorAlert: "digitalocean:index/monitorAlert:MonitorAlert",
  uptimeCheck: "digitalocean:index/uptimeCheck:UptimeCheck",
  uptimeAlert: "digitalocean:index/uptimeAlert:UptimeAlert",
  project: "digitalocean:index/project:Project",
  namespace: "kubernetes:core/v1:Namespace",
  secret: "kubernetes:core/v1:Secret",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  pdb: "kubernetes:policy/v1:PodDisruptionBudget",
  hpa: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  password: "random:index/randomPassword:RandomPassword",
  k8sProvider: "pulumi:providers:kubernetes",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  priorityClass: "kubernetes:scheduling.k8s.io/v1:PriorityClass",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  configMap: "kubernetes:core/v1:ConfigMap",
  helmRelease: "kubernetes:helm.sh/v3:Release",
  serviceMonitor: "kubernetes:monitoring.coreos.com/v1:ServiceMonitor",
  prometheusRule: "kubernetes:monitoring.coreos.com/v1:PrometheusRule",
} as const;

/** Logical names of the resources tests refer to. */
export function namesOf(stack: string) {
  const p = `gomeet-${stack}`;
  return {
    vpc: `${p}-vpc`,
    doks: `${p}-doks`,
    postgres: `${p}-pg`,
    postgresFirewall: `${p}-pg-firewall`,
    replica: `${p}-pg-replica-1`,
    replicaFirewall: `${p}-pg-replica-1-firewall`,
    valkey: `${p}-valkey`,
    valkeyFirewall: `${p}-valkey-firewall`,
    secret: `${p}-secrets`,
    deployment: `${p}-app`,
    service: `${p}-service`,
    pdb: `${p}-pdb`,
    hpa: `${p}-hpa`,
    uptimeCheck: `${p}-uptime`,
    uptimeDown: `${p}-down`,
    nodeCpuAlert: `${p}-node-cpu`,
    metricsService: `${p}-metrics-service`,
    serviceMonitor: `${p}-service-monitor`,
    prometheusRule: `${p}-prometheus-rule`,
  };
}

export const APP_LABELS = Object.freeze({ "app.kubernetes.io/name": "gomeet", "app.kubernetes.io/component": "realtime" });
const LB = "service.beta.kubernetes.io/do-loadbalancer";
const SECRET_KEYS = ["DATABASE_URL", "DATABASE_REPLICA_URLS", "REDIS_URL", "LIVEKIT_DATACENTERS", "AUTH_JWT_SECRET"];

/** Options of one planned resource. */
interface ResourceOptions {
  parent?: PlannedResource;
  dependsOn?: PlannedResource[];
  protect?: boolean;
  secretPaths?: string[];
  additionalSecretOutputs?: string[];
  custom?: boolean;
}

/** Collects planned resources with URNs shaped like the engine's. */
class PlanBuilder {
  readonly resources: PlannedResource[] = [];

  constructor(private readonly stack: string) {}

  add(type: string, name: string, props: Record<string, unknown>, options: ResourceOptions = {}): PlannedResource {
    const qualified = options.parent ? `${options.parent.type}$${type}` : type;
    const resource: PlannedResource = {
      type,
      name,
      urn: `urn:pulumi:${this.stack}::gomeet::${qualified}::${name}`,
      props,
      secretPaths: options.secretPaths ?? [],
      protect: options.protect ?? false,
      additionalSecretOutputs: options.additionalSecretOutputs ?? [],
      parent: options.parent?.urn,
      dependencies: (options.dependsOn ?? []).map((d) => d.urn),
      custom: options.custom ?? true,
    };
    this.resources.push(resource);
    return resource;
  }

  component(name: string, kind: string): PlannedResource {
    return this.add(`gomeet:index:${kind}`, name, {}, { custom: false });
  }
}

function deploymentProps(k: StackKnobs): Record<string, unknown> {
  const labels = { ...APP_LABELS };
  const probe = (path: string) => ({ httpGet: { path, port: "http" }, periodSeconds: 5, timeoutSeconds: 2 });
  return {
    metadata: { name: "gomeet", namespace: "gomeet", labels },
    spec: {
      replicas: k.appReplicas,
      minReadySeconds: 10,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { "gomeet.dev/livekit-deployments": k.livekitDeployments.join(",") } },
        spec: {
          terminationGracePeriodSeconds: 55,
          serviceAccountName: "gomeet",
          automountServiceAccountToken: false,
          priorityClassName: "gomeet-realtime",
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "DoNotSchedule",
              labelSelector: { matchLabels: labels },
            },
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
              image: k.image,
              ports: [{ name: "http", containerPort: 8080 }],
              env: [
                { name: "PORT", value: "8080" },
                { name: "INSTANCE_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                ...SECRET_KEYS.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: "gomeet-secrets", key } } })),
              ],
              resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
              startupProbe: probe("/healthz"),
              readinessProbe: probe("/readyz"),
              livenessProbe: probe("/healthz"),
              lifecycle: { preStop: { exec: { command: ["sleep", "10"] } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                privileged: false,
                capabilities: { drop: ["ALL"] },
              },
            },
          ],
        },
      },
    },
  };
}

function serviceAnnotations(k: StackKnobs): Record<string, string> {
  return {
    [`${LB}-type`]: "REGIONAL",
    [`${LB}-name`]: `gomeet-${k.stack}-lb`,
    [`${LB}-protocol`]: "http",
    [`${LB}-size-unit`]: "2",
    [`${LB}-override-health-check`]: "true",
    [`${LB}-healthcheck-path`]: "/readyz",
    [`${LB}-healthcheck-protocol`]: "http",
    [`${LB}-healthcheck-port`]: "80",
    [`${LB}-healthcheck-unhealthy-threshold`]: "3",
    [`${LB}-http-idle-timeout-seconds`]: k.idleTimeoutSeconds,
    [`${LB}-certificate-name`]: `gomeet-${k.stack}-cert`,
    [`${LB}-tls-ports`]: "443",
    [`${LB}-disable-lets-encrypt-dns-records`]: "true",
  };
}

/** The app namespace's NetworkPolicies as infra/security-manifests.ts renders them (by name). */
function networkPolicySpecs(): Record<string, Record<string, unknown>> {
  const app = { matchLabels: { ...APP_LABELS } };
  const publicInternet = {
    ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"] },
  };
  return {
    "default-deny": { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    "allow-load-balancer": { podSelector: app, policyTypes: ["Ingress"], ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }] },
    "allow-monitoring-scrape": {
      podSelector: app,
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }],
          ports: [{ protocol: "TCP", port: 8080 }],
        },
      ],
    },
    "allow-dns": {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
    "allow-databases": {
      podSelector: app,
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.20.0.0/16" } }],
          ports: [
            { protocol: "TCP", port: 25060 },
            { protocol: "TCP", port: 25061 },
          ],
        },
      ],
    },
    "allow-livekit": {
      podSelector: app,
      policyTypes: ["Egress"],
      egress: [{ to: [publicInternet], ports: [{ protocol: "TCP", port: 443 }] }],
    },
  };
}

/** The stack the infra program emits for these knobs (production by default). */
export function buildStack(overrides: Partial<StackKnobs> = {}): PlannedResource[] {
  const k: StackKnobs = { ...PROD, ...overrides };
  const n = namesOf(k.stack);
  const plan = new PlanBuilder(k.stack);
  const tags = [`gomeet-${k.stack}`];

  const network = plan.component("network", "Network");
  const vpc = plan.add(TYPES.vpc, n.vpc, { name: n.vpc, region: "nyc3", ipRange: "10.20.0.0/16" }, { parent: network });

  const kubernetes = plan.component("kubernetes", "Kubernetes");
  const doks = plan.add(
    TYPES.doks,
    n.doks,
    {
      name: n.doks,
      region: "nyc3",
      version: "1.33.1-do.0",
      vpcUuid: "vpc-id",
      ha: k.doksHa,
      autoUpgrade: true,
      surgeUpgrade: k.surgeUpgrade,
      registryIntegration: true,
      maintenancePolicy: { day: "sunday", startTime: "04:00" },
      nodePool: {
        name: `gomeet-${k.stack}-pool`,
        size: "s-4vcpu-8gb",
        autoScale: true,
        minNodes: k.minNodes,
        maxNodes: 6,
        labels: { "gomeet.dev/pool": "app" },
      },
      tags,
    },
    { parent: kubernetes, dependsOn: [vpc] },
  );
  const provider = plan.add(
    TYPES.k8sProvider,
    `gomeet-${k.stack}-k8s`,
    { kubeconfig: "apiVersion: v1" },
    { parent: kubernetes, dependsOn: [doks] },
  );

  const database = (component: PlannedResource, name: string, firewallName: string, props: Record<string, unknown>) => {
    const cluster = plan.add(
      TYPES.cluster,
      name,
      { name, region: "nyc3", privateNetworkUuid: "vpc-id", maintenanceWindows: [{ day: "sunday", hour: "03:00:00" }], tags, ...props },
      { parent: component, dependsOn: [vpc], protect: true },
    );
    plan.add(
      TYPES.firewall,
      firewallName,
      { clusterId: "cluster-id", rules: [{ type: "k8s", value: "doks-id" }] },
      { parent: component, dependsOn: [cluster, doks] },
    );
    return cluster;
  };

  const postgresComponent = plan.component("postgres", "Postgres");
  const postgres = database(postgresComponent, n.postgres, n.postgresFirewall, {
    engine: "pg",
    version: "16",
    size: "db-s-2vcpu-4gb",
    nodeCount: k.postgresNodeCount,
  });
  plan.add(TYPES.db, `${n.postgres}-db`, { clusterId: "cluster-id", name: "gomeet" }, { parent: postgresComponent, dependsOn: [postgres] });
  plan.add(
    TYPES.user,
    `${n.postgres}-user`,
    { clusterId: "cluster-id", name: "gomeet" },
    { parent: postgresComponent, dependsOn: [postgres] },
  );
  plan.add(
    TYPES.pool,
    `${n.postgres}-pool`,
    { clusterId: "cluster-id", name: "gomeet-pool", mode: "transaction", size: 22, dbName: "gomeet", user: "gomeet" },
    { parent: postgresComponent, dependsOn: [postgres] },
  );
  for (let i = 1; i <= k.readReplicas; i++) {
    const name = `${n.postgres}-replica-${i}`;
    const replica = plan.add(
      TYPES.replica,
      name,
      { clusterId: "cluster-id", name, size: "db-s-2vcpu-4gb", region: "nyc3", privateNetworkUuid: "vpc-id", tags },
      { parent: postgresComponent, dependsOn: [postgres, vpc] },
    );
    plan.add(
      TYPES.firewall,
      `${name}-firewall`,
      { clusterId: "replica-uuid", rules: [{ type: "k8s", value: "doks-id" }] },
      { parent: postgresComponent, dependsOn: [replica, doks] },
    );
  }

  const valkeyComponent = plan.component("valkey", "Valkey");
  const valkey = database(valkeyComponent, n.valkey, n.valkeyFirewall, {
    engine: k.valkeyEngine,
    version: "8",
    size: "db-s-1vcpu-2gb",
    nodeCount: k.valkeyNodeCount,
    evictionPolicy: k.evictionPolicy,
  });

  const app = plan.component("app", "App");
  const child = { parent: app, dependsOn: [provider] };
  const psa = Object.fromEntries(
    ["enforce", "audit", "warn"].flatMap((mode) => [
      [`pod-security.kubernetes.io/${mode}`, "restricted"],
      [`pod-security.kubernetes.io/${mode}-version`, "v1.33"],
    ]),
  );
  plan.add(TYPES.namespace, `gomeet-${k.stack}-ns`, { metadata: { name: "gomeet", labels: psa } }, child);
  const security = plan.add(`gomeet:index:SecurityBaseline`, "security", {}, { parent: app, custom: false });
  const baseline = { parent: security, dependsOn: [provider] };
  plan.add(
    TYPES.serviceAccount,
    `gomeet-${k.stack}-service-account`,
    { metadata: { name: "gomeet", namespace: "gomeet" }, automountServiceAccountToken: false },
    baseline,
  );
  plan.add(
    TYPES.priorityClass,
    `gomeet-${k.stack}-priority`,
    { metadata: { name: "gomeet-realtime" }, value: 100000, globalDefault: false },
    baseline,
  );
  for (const [name, spec] of Object.entries(networkPolicySpecs())) {
    plan.add(TYPES.networkPolicy, `gomeet-${k.stack}-netpol-${name}`, { metadata: { name, namespace: "gomeet" }, spec }, baseline);
  }
  plan.add(
    TYPES.configMap,
    `gomeet-${k.stack}-database-ca`,
    { metadata: { name: "gomeet-database-ca", namespace: "gomeet" }, data: { "postgres-ca.crt": "PEM", "valkey-ca.crt": "PEM" } },
    child,
  );
  plan.add(TYPES.password, `gomeet-${k.stack}-auth-jwt-secret`, { length: 64, special: false }, { parent: app });
  plan.add(
    TYPES.secret,
    n.secret,
    {
      metadata: { name: "gomeet-secrets", namespace: "gomeet" },
      type: "Opaque",
      stringData: Object.fromEntries(SECRET_KEYS.map((key) => [key, `value-of-${key}`])),
    },
    { ...child, secretPaths: SECRET_KEYS.map((key) => `stringData.${key}`), additionalSecretOutputs: ["data", "stringData"] },
  );
  const deployment = plan.add(TYPES.deployment, n.deployment, deploymentProps(k), child);
  plan.add(
    TYPES.pdb,
    n.pdb,
    {
      metadata: { name: "gomeet", namespace: "gomeet" },
      spec: { minAvailable: k.pdbMinAvailable, selector: { matchLabels: { ...APP_LABELS } } },
    },
    child,
  );
  plan.add(
    TYPES.hpa,
    n.hpa,
    {
      metadata: { name: "gomeet", namespace: "gomeet" },
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "gomeet" },
        minReplicas: k.hpaMinReplicas,
        maxReplicas: 9,
      },
    },
    { ...child, dependsOn: [provider, deployment] },
  );
  const service = plan.add(
    TYPES.service,
    n.service,
    {
      metadata: { name: "gomeet", namespace: "gomeet", labels: { ...APP_LABELS }, annotations: serviceAnnotations(k) },
      spec: {
        type: "LoadBalancer",
        externalTrafficPolicy: "Local",
        selector: { ...APP_LABELS },
        ports: [{ name: "http", port: 80, targetPort: "http" }],
      },
    },
    { ...child, dependsOn: [provider, deployment] },
  );

  const alerting = plan.component("alerting", "Alerting");
  const targets = { emails: ["oncall@gomeet.example"], slacks: [] };
  const monitor = (key: string, type: string, watched: PlannedResource) =>
    plan.add(
      TYPES.monitorAlert,
      `gomeet-${k.stack}-${key}`,
      { type, compare: "GreaterThan", value: 80, window: "5m", entities: ["id"], description: key, enabled: true, alerts: targets },
      { parent: alerting, dependsOn: [watched] },
    );
  for (const metric of ["cpu", "memory_utilization_percent", "disk_utilization_percent"]) {
    monitor(`node-${metric === "cpu" ? "cpu" : metric.split("_")[0]}`, `v1/insights/droplet/${metric}`, doks);
  }
  monitor("lb-5xx", "v1/insights/lbaas/increase_in_http_error_rate_count_5xx", service);
  for (const [label, cluster] of [
    ["postgres", postgres],
    ["valkey", valkey],
  ] as const) {
    for (const metric of ["cpu_alerts", "memory_utilization_alerts", "disk_utilization_alerts"]) {
      monitor(`${label}-${metric.split("_")[0]}`, `v1/dbaas/alerts/${metric}`, cluster);
    }
  }
  const check = plan.add(
    TYPES.uptimeCheck,
    n.uptimeCheck,
    {
      name: `gomeet-${k.stack}-readyz`,
      target: "https://meet.gomeet.example/readyz",
      type: "https",
      regions: ["us_east", "eu_west"],
      enabled: true,
    },
    { parent: alerting },
  );
  const notifications = [{ emails: ["oncall@gomeet.example"], slacks: [] }];
  plan.add(
    TYPES.uptimeAlert,
    n.uptimeDown,
    { checkId: "check-id", name: n.uptimeDown, type: "down_global", period: "2m", notifications },
    { parent: alerting, dependsOn: [check] },
  );
  plan.add(
    TYPES.uptimeAlert,
    `gomeet-${k.stack}-latency`,
    { checkId: "check-id", name: "latency", type: "latency", comparison: "greater_than", threshold: 100, period: "5m", notifications },
    { parent: alerting, dependsOn: [check] },
  );

  const monitoring = plan.component("monitoring", "Monitoring");
  const release = plan.add(
    TYPES.helmRelease,
    `gomeet-${k.stack}-monitoring`,
    { name: "monitoring", chart: "kube-prometheus-stack", version: "88.5.3", namespace: "monitoring", values: {} },
    { parent: monitoring, dependsOn: [provider] },
  );
  const metricsLabel = { "gomeet.dev/metrics": "true" };
  plan.add(
    TYPES.service,
    n.metricsService,
    {
      metadata: { name: "gomeet-metrics", namespace: "gomeet", labels: { ...APP_LABELS, ...metricsLabel } },
      spec: { type: "ClusterIP", selector: { ...APP_LABELS }, ports: [{ name: "metrics", port: 8080, targetPort: "http" }] },
    },
    { parent: monitoring, dependsOn: [provider, deployment] },
  );
  const operatorObject = (kind: string, spec: Record<string, unknown>) => ({
    apiVersion: "monitoring.coreos.com/v1",
    kind,
    metadata: { name: "gomeet", namespace: "gomeet", labels: { release: "monitoring" } },
    spec,
  });
  plan.add(
    TYPES.serviceMonitor,
    n.serviceMonitor,
    operatorObject("ServiceMonitor", {
      jobLabel: "app.kubernetes.io/name",
      selector: { matchLabels: metricsLabel },
      namespaceSelector: { matchNames: ["gomeet"] },
      endpoints: [{ port: "metrics", path: "/metrics", interval: "15s" }],
    }),
    { parent: monitoring, dependsOn: [provider, release, deployment] },
  );
  plan.add(
    TYPES.prometheusRule,
    n.prometheusRule,
    operatorObject("PrometheusRule", {
      groups: [
        {
          name: "gomeet.service",
          rules: [{ alert: "GoMeetInstanceDown", expr: 'up{job="gomeet"} == 0', for: "1m", labels: { severity: "critical" } }],
        },
      ],
    }),
    { parent: monitoring, dependsOn: [provider, release, deployment] },
  );

  const project = plan.component("project", "Project");
  plan.add(
    TYPES.project,
    `gomeet-${k.stack}`,
    { name: `gomeet-${k.stack}`, purpose: "Web Application", environment: "Production", resources: [] },
    { parent: project },
  );
  return plan.resources;
}
