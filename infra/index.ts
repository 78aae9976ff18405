/**
 * GoMeet on DigitalOcean with no single point of failure:
 *
 *   internet ─▶ DO load balancer (REGIONAL, health-checked) ─▶ app × N on an HA DOKS cluster (nodes ≥ 3)
 *                                                               ├─▶ PostgreSQL: primary + standby, read replica(s), pool
 *                                                               ├─▶ Valkey: primary + standby (noeviction)
 *                                                               └─▶ LiveKit deployments (tokens pinned per room)
 *   all inside one VPC; the databases admit only the cluster; alerts and uptime checks watch every tier.
 */
import { loadConfig } from "./config";
import { Network } from "./network";
import { Kubernetes } from "./kubernetes";
import { Postgres } from "./postgres";
import { Valkey } from "./valkey";
import { Certificate, DnsRecord } from "./domain";
import { App } from "./app";
import { MetricsServer } from "./metrics-server";
import { Alerting } from "./alerting";
import { APP_PORT } from "./app-manifests";
import { Monitoring } from "./monitoring";
import { MONITORING_NAMESPACE } from "./monitoring-chart";
import { podSecurityVersion } from "./security-manifests";
import { Project, projectEnvironment } from "./project";

const config = loadConfig();
const prefix = `gomeet-${config.stack}`;
const region = config.region;

const network = new Network("network", { prefix, region, ipRange: config.network.ipRange });
const kubernetes = new Kubernetes("kubernetes", { prefix, region, vpcId: network.vpcId, config: config.kubernetes });
const databaseAccess = { prefix, region, vpcId: network.vpcId, kubernetesClusterId: kubernetes.clusterId };
const postgres = new Postgres("postgres", { ...databaseAccess, config: config.postgres });
const valkey = new Valkey("valkey", { ...databaseAccess, config: config.valkey });
const certificate = config.domain && new Certificate("certificate", { prefix, domain: config.domain });

// The autoscaler's CPU metrics: DOKS does not install metrics-server.
const metricsServer = new MetricsServer("metrics-server", { prefix, provider: kubernetes.provider, minNodes: config.kubernetes.minNodes });

const app = new App("app", {
  prefix,
  provider: kubernetes.provider,
  config: config.app,
  databaseUrl: postgres.poolUrl,
  databaseReplicaUrls: postgres.replicaUrls,
  redisUrl: valkey.url,
  livekit: config.livekit,
  livekitNames: config.livekitNames,
  metricsApi: metricsServer.release,
  certificateName: certificate?.certificateName,
  databaseCa: { postgres: postgres.caCertificate, valkey: valkey.caCertificate },
  security: {
    podSecurityVersion: podSecurityVersion(config.kubernetes.versionPrefix),
    vpcCidr: config.network.ipRange,
    monitoringNamespace: MONITORING_NAMESPACE,
    livekitPorts: config.livekitPorts,
  },
});
const dns = config.domain && new DnsRecord("dns", { prefix, domain: config.domain, ip: app.loadBalancerIp });

new Alerting("alerting", {
  prefix,
  config: config.alerts,
  nodeTag: kubernetes.nodeTag,
  loadBalancer: { id: app.loadBalancerId, createdBy: app.service },
  region,
  databases: [
    { label: "postgres", clusterId: postgres.clusterId },
    { label: "valkey", clusterId: valkey.clusterId },
  ],
  endpointUrl: config.domain ? `https://${config.domain.host}/readyz` : app.loadBalancerIp.apply((ip) => `http://${ip}/readyz`),
  tls: config.domain !== undefined,
});

new Monitoring("monitoring", {
  prefix,
  provider: kubernetes.provider,
  config: config.monitoring,
  alerts: config.alerts,
  appNamespace: app.namespace,
  appPort: APP_PORT,
  haFloor: config.app.replicas,
  fanoutP99Seconds: config.alerts.responseTimeMs / 1000,
  appResources: [app.deployment],
});

new Project("project", {
  prefix,
  environment: projectEnvironment(config.stack),
  resources: [kubernetes.clusterUrn, postgres.clusterUrn, valkey.clusterUrn],
});

export const endpoint = dns ? dns.fqdn.apply((host) => `https://${host}`) : app.loadBalancerIp.apply((ip) => `http://${ip}`);
export const kubeconfig = kubernetes.kubeconfig;
export const postgresHost = postgres.privateHost;
export const valkeyHost = valkey.privateHost;
export const kubernetesVersion = kubernetes.version;
