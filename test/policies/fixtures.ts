/**
 * Planned-resource fixtures for the policy tests: the stack the infra program emits (see the resource
 * catalogue), built from a few knobs.
 */
import type { PlannedResource } from "../../preview/plan";
import { addStandbyRegion } from "./standby-fixture";
import { APP_LABELS, SECRET_KEYS, deploymentProps, networkPolicySpecs, serviceAnnotations } from "./kubernetes-specs";
import { PlanBuilder } from "./plan-builder";
import { PROD, TYPES, namesOf, type StackKnobs } from "./stack-knobs";

// The knobs, resource types and names live in stack-knobs.ts; editing a plan and running the pack over it in
// plan-edits.ts. Both are re-exported so every test imports one module.
export { PROD, STAGING, TWO_REGIONS, TYPES, namesOf, type StackKnobs } from "./stack-knobs";
export { editProps, editResource, messagesOf, resourceNamed, violationsOf, without } from "./plan-edits";

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

  if (k.standbyRegion) addStandbyRegion(plan, k, k.standbyRegion, { doks, postgres, service, provider });

  const project = plan.component("project", "Project");
  plan.add(
    TYPES.project,
    `gomeet-${k.stack}`,
    { name: `gomeet-${k.stack}`, purpose: "Web Application", environment: "Production", resources: [] },
    { parent: project },
  );
  return plan.resources;
}
