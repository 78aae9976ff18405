/** Shared by the prod-stack tests (prod-stack.test.ts, prod-stack-alerting.test.ts): the resource types and names they look up. */

export const T = {
  vpc: "digitalocean:index/vpc:Vpc",
  doks: "digitalocean:index/kubernetesCluster:KubernetesCluster",
  db: "digitalocean:index/databaseCluster:DatabaseCluster",
  replica: "digitalocean:index/databaseReplica:DatabaseReplica",
  pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
  firewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
  monitor: "digitalocean:index/monitorAlert:MonitorAlert",
  uptime: "digitalocean:index/uptimeCheck:UptimeCheck",
  uptimeAlert: "digitalocean:index/uptimeAlert:UptimeAlert",
  deployment: "kubernetes:apps/v1:Deployment",
  service: "kubernetes:core/v1:Service",
  secret: "kubernetes:core/v1:Secret",
};

/** The app's load-balanced Service of a region is `<prefix>-service` (the monitoring component adds `<prefix>-metrics-service`). */

/**
 * The prod stack's region cells (Pulumi.prod.yaml: nyc3 primary, `gomeet:standby` tor1): the resource name prefix, the
 * component name prefix (the first region keeps the root names) and the VPC range of each.
 */
export const CELLS = [
  { region: "nyc3", prefix: "gomeet-prod", part: "", ipRange: "10.20.0.0/16" },
  { region: "tor1", prefix: "gomeet-prod-tor1", part: "tor1-", ipRange: "10.21.0.0/16" },
] as const;
export const PRIMARY = CELLS[0];
