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

/** The app's load-balanced Service (the monitoring component adds a ClusterIP metrics Service). */
export const APP_SERVICE = "gomeet-prod-service";
