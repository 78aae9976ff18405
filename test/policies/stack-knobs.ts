/**
 * What the policy-test stack (fixtures.ts) is built from: the knobs of prod and staging, and the resource types and
 * logical names the tests refer to.
 */

/**
 * The settings that differ between stacks or that tests turn. The knobs describe one region cell; most rules check
 * objects one by one and are tested on it. Tests of the whole production stack add the standby region (TWO_REGIONS).
 */
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
  /** A second region with a standby (standby-fixture.ts); staging has none. */
  standbyRegion?: string;
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
  standbyRegion: undefined,
});

/** Prod as the stack is now: the region cell above plus a standby region with a GLB over both (standby-fixture.ts). */
export const TWO_REGIONS: Partial<StackKnobs> = Object.freeze({ standbyRegion: "tor1" });

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
  standbyRegion: undefined,
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
