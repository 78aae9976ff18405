/**
 * GoMeet on DigitalOcean with no single point of failure, the region included:
 *
 *   internet ─▶ Global Load Balancer (domain + certificate; region priorities: primary 1, standby 2)
 *                 ├─▶ region cell nyc3 (primary): regional LB ─▶ app × N on HA DOKS ─┬─▶ PostgreSQL primary + standby, replica, pool
 *                 │                                                                  └─▶ Valkey primary + standby
 *                 └─▶ region cell tor1 (standby, warm): regional LB ─▶ app × N on HA DOKS ─┬─▶ read-only node of the primary (cross-region)
 *                                                                                          ├─▶ Valkey of its own
 *                                                                                          └─ failover controller (detect → fence → promote → switch)
 *   each cell: its own VPC, monitoring, metrics-server, alerts; the databases admit only their region's cluster.
 *   Without `gomeet:standby` (staging): one cell, and the public host points at its load balancer.
 */
import { loadConfig } from "./config";
import { Certificate, DnsRecord, regionalDomain } from "./domain";
import { FailoverController } from "./failover-controller";
import { failoverTopology } from "./failover-topology";
import { GlobalLoadBalancer } from "./global-load-balancer";
import { Project, projectEnvironment } from "./project";
import { cellPlan } from "./region-roles";
import { RegionCell } from "./region-cell";

const config = loadConfig();
const prefix = `gomeet-${config.stack}`;
const roles = cellPlan(prefix, config);
const twoRegions = roles.standby !== undefined;

const certificate =
  config.domain &&
  new Certificate("certificate", {
    prefix,
    domain: config.domain,
    extraNames: roles.all.filter(() => twoRegions).map((cell) => regionalDomain(config.domain!, cell.region).host),
  });
const domain = config.domain &&
  certificate && { config: config.domain, certificateName: certificate.certificateName, regionalHost: twoRegions };
const cellArgs = (cell: (typeof roles.all)[number]) => ({
  prefix: cell.prefix,
  stackPrefix: prefix,
  region: cell.region,
  ipRange: cell.ipRange,
  firstRegion: cell.firstRegion,
  multiRegion: twoRegions,
  maxReplicationLagSeconds: config.standby?.maxReplicationLagSeconds,
  kubernetes: config.kubernetes,
  valkey: config.valkey,
  app: config.app,
  alerts: config.alerts,
  monitoring: config.monitoring,
  livekit: config.livekit,
  livekitNames: config.livekitNames,
  livekitPorts: config.livekitPorts,
  domain,
});

// The region holding the primary database first: the standby's read-only node replicates from it.
const primary = new RegionCell(roles.primary.region, { ...cellArgs(roles.primary), database: roles.primary.database });
const standby =
  roles.standby &&
  new RegionCell(roles.standby.region, {
    ...cellArgs(roles.standby),
    database: { role: "standby", primary: primary.postgres!, size: config.postgres.size },
  });

const glb =
  standby &&
  new GlobalLoadBalancer("global-load-balancer", {
    prefix,
    targets: [primary, standby].map((cell) => ({ region: cell.region, loadBalancerId: cell.loadBalancerId, createdBy: cell.app.service })),
    failoverThresholdPercent: config.standby!.failoverThresholdPercent,
    domain: config.domain!,
    certificateName: certificate!.certificateName,
    idleTimeoutSeconds: config.app.websocketIdleTimeoutSeconds,
    alerts: config.alerts,
  });
const dns = !glb && config.domain && new DnsRecord("dns", { prefix, domain: config.domain, ip: primary.loadBalancerIp });

const topology = standby && glb && failoverTopology({ config, primary, standby, glb });
if (standby && topology) {
  new FailoverController("failover-controller", {
    prefix: roles.standby!.prefix,
    provider: standby.kubernetes.provider,
    namespace: standby.app.namespace,
    image: config.app.image,
    topology,
    apiToken: config.failoverToken!,
    recovery: {
      mode: config.standby!.failover,
      detectionWindowSeconds: config.standby!.detectionWindowSeconds,
      maxReplicationLagSeconds: config.standby!.maxReplicationLagSeconds,
    },
    dependsOn: [standby.app.deployment],
  });
}

new Project("project", {
  prefix,
  environment: projectEnvironment(config.stack),
  resources: [primary, ...(standby ? [standby] : [])].flatMap((cell) => cell.projectUrns),
});

export const endpoint = glb ? glb.endpoint : dns ? dns.fqdn.apply((host) => `https://${host}`) : primary.regionalUrl;
export const kubeconfig = primary.kubernetes.kubeconfig;
export const standbyKubeconfig = standby?.kubernetes.kubeconfig;
export const postgresHost = primary.postgres!.privateHost;
export const valkeyHost = primary.valkey.privateHost;
export const kubernetesVersion = primary.kubernetes.version;
/** What `npm run region-failover` acts on (`pulumi stack output failoverTopology`): ids, names and URLs, no secret. */
export const failoverTopologyOutput = topology;
