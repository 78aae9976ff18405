/**
 * One region of GoMeet, whole: everything a region needs to serve users on its own. The stack builds it once per
 * region (docs/architecture.md, "Two regions"):
 *
 *   VPC ─ DOKS (HA control plane) ─┬─ app × N (security baseline, HPA, PDB) ◀─ regional load balancer (CCM)
 *                                  ├─ Valkey (its own: realtime state does not cross regions)
 *                                  ├─ PostgreSQL: the primary cluster, or the cross-region read-only node of it
 *                                  └─ monitoring (kube-prometheus-stack) and metrics-server
 *   alerts: nodes, load balancer, databases, and an uptime check of the region's own host from four probe regions.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
  AlertsConfig,
  AppConfig,
  DomainConfig,
  KubernetesConfig,
  LivekitDeployment,
  MonitoringConfig,
  PostgresConfig,
  ValkeyConfig,
} from "./config";
import { Alerting, type WatchedDatabase } from "./alerting";
import { App } from "./app";
import { METRICS_PORT } from "./app-manifests";
import { DnsRecord, regionalDomain } from "./domain";
import { Kubernetes } from "./kubernetes";
import { MetricsServer } from "./metrics-server";
import { Monitoring } from "./monitoring";
import { MONITORING_NAMESPACE } from "./monitoring-chart";
import { Network } from "./network";
import { Postgres } from "./postgres";
import { podSecurityVersion } from "./security-manifests";
import { StandbyDatabase } from "./standby-database";
import { Valkey } from "./valkey";

/** The region's PostgreSQL: the primary cluster, or a read-only node of a primary elsewhere. */
export type CellDatabase =
  { role: "primary"; config: PostgresConfig; import?: { clusterId: string; clusterName: string } } | StandbyCellDatabase;
type StandbyCellDatabase = { role: "standby"; primary: Postgres; size: string };

/** Arguments of {@link RegionCell}. */
export interface RegionCellArgs {
  /** Name prefix of the cell's resources: `gomeet-prod` for the stack's first region, `gomeet-prod-<region>` for another. */
  prefix: string;
  /** The stack's prefix (the cross-region node is named after the primary's: `<stack prefix>-pg-<region>`). */
  stackPrefix: string;
  region: string;
  /** The region's VPC range. */
  ipRange: string;
  kubernetes: KubernetesConfig;
  valkey: ValkeyConfig;
  database: CellDatabase;
  app: AppConfig;
  alerts: AlertsConfig;
  monitoring: MonitoringConfig;
  livekit: pulumi.Input<LivekitDeployment[]>;
  livekitNames: string[];
  livekitPorts: number[];
  /**
   * The public domain and its certificate, which the regional load balancer serves. `regionalHost`: the region also
   * gets its own name, `<region>.<host>` (two regions: the public host belongs to the GLB); else the stack points the
   * public host at this region's load balancer itself.
   */
  domain?: { config: DomainConfig; certificateName: pulumi.Input<string>; regionalHost: boolean };
  /**
   * The stack's first region: its components keep the names and places (at the stack's root) they had before the
   * cell existed, through aliases, so that introducing the cell moves nothing in the cloud.
   */
  firstRegion: boolean;
  /** The standby region's replication-lag alert threshold, when there is one. */
  maxReplicationLagSeconds?: number;
  /** The stack has a standby region: the app learns its role from its database (REGION_ROLE=auto). */
  multiRegion: boolean;
}

/** A region of GoMeet (see the file comment). */
export class RegionCell extends pulumi.ComponentResource {
  readonly region: string;
  readonly network: Network;
  readonly kubernetes: Kubernetes;
  readonly valkey: Valkey;
  /** Set in the region of the primary database. */
  readonly postgres?: Postgres;
  /** Set in a standby region: the cross-region read-only node. */
  readonly standbyDatabase?: StandbyDatabase;
  readonly app: App;
  readonly alerting: Alerting;
  /** The regional load balancer's DigitalOcean id (the CCM's annotation on the Service) and public IP. */
  readonly loadBalancerId: pulumi.Output<string>;
  readonly loadBalancerIp: pulumi.Output<string>;
  /** This region's own endpoint: `https://<region>.<host>`, the public host with one region, or `http://<ip>` without a domain. */
  readonly regionalUrl: pulumi.Output<string>;
  /** DigitalOcean URNs of the cell's clusters, for the Project. */
  readonly projectUrns: pulumi.Output<string>[];

  constructor(name: string, args: RegionCellArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:RegionCell", name, {}, opts);
    this.region = args.region;
    const { prefix, region } = args;
    const part = (n: string) => (args.firstRegion ? n : `${region}-${n}`);
    const child: pulumi.ComponentResourceOptions = {
      parent: this,
      aliases: args.firstRegion ? [{ parent: pulumi.rootStackResource }] : [],
    };

    this.network = new Network(part("network"), { prefix, region, ipRange: args.ipRange }, child);
    this.kubernetes = new Kubernetes(part("kubernetes"), { prefix, region, vpcId: this.network.vpcId, config: args.kubernetes }, child);
    const access = { prefix, region, vpcId: this.network.vpcId, kubernetesClusterId: this.kubernetes.clusterId };
    const db = args.database;
    if (db.role === "primary") {
      this.postgres = new Postgres(part("postgres"), { ...access, config: db.config, import: db.import }, child);
    } else {
      this.standbyDatabase = new StandbyDatabase(
        part("standby-database"),
        {
          prefix: args.stackPrefix,
          region,
          primaryClusterId: db.primary.clusterId,
          size: db.size,
          vpcId: this.network.vpcId,
          kubernetesClusterId: this.kubernetes.clusterId,
          appLogin: db.primary.appLogin,
        },
        child,
      );
    }
    this.valkey = new Valkey(part("valkey"), { ...access, config: args.valkey }, child);

    // The autoscaler's CPU metrics: DOKS does not install metrics-server.
    const provider = this.kubernetes.provider;
    const metricsServer = new MetricsServer(part("metrics-server"), { prefix, provider, minNodes: args.kubernetes.minNodes }, child);

    // A standby region's app writes to its read-only node: refused (the app answers writes with its documented
    // read-only error) until the failover promotes the node, then taken by the same host without a restart.
    this.app = new App(
      part("app"),
      {
        prefix,
        provider,
        config: args.app,
        databaseUrl: this.postgres ? this.postgres.poolUrl : this.standbyDatabase!.url,
        databaseReplicaUrls: this.postgres ? this.postgres.replicaUrls : pulumi.output([]),
        redisUrl: this.valkey.url,
        livekit: args.livekit,
        livekitNames: args.livekitNames,
        metricsApi: metricsServer.release,
        region: args.multiRegion ? region : undefined,
        certificateName: args.domain?.certificateName,
        // A read-only node is part of its primary's cluster family and serves certificates signed by the same CA.
        databaseCa: { postgres: (this.postgres ?? (db as StandbyCellDatabase).primary).caCertificate, valkey: this.valkey.caCertificate },
        security: {
          podSecurityVersion: podSecurityVersion(args.kubernetes.versionPrefix),
          vpcCidr: args.ipRange,
          monitoringNamespace: MONITORING_NAMESPACE,
          livekitPorts: args.livekitPorts,
        },
      },
      child,
    );
    this.loadBalancerId = this.app.loadBalancerId;
    this.loadBalancerIp = this.app.loadBalancerIp;

    const domain = args.domain;
    const regional = domain?.regionalHost ? regionalDomain(domain.config, region) : undefined;
    const dns = regional && new DnsRecord(part("regional-dns"), { prefix, domain: regional, ip: this.app.loadBalancerIp }, child);
    this.regionalUrl = dns
      ? dns.fqdn.apply((host) => `https://${host}`)
      : domain
        ? pulumi.output(`https://${domain.config.host}`)
        : this.app.loadBalancerIp.apply((ip) => `http://${ip}`);

    const databases: WatchedDatabase[] = [
      ...(this.postgres ? [{ label: "postgres", clusterId: this.postgres.clusterId }] : []),
      ...(this.standbyDatabase ? [{ label: "postgres-standby", clusterId: this.standbyDatabase.uuid }] : []),
      { label: "valkey", clusterId: this.valkey.clusterId },
    ];
    this.alerting = new Alerting(
      part("alerting"),
      {
        prefix,
        config: args.alerts,
        nodeTag: this.kubernetes.nodeTag,
        loadBalancer: { id: this.app.loadBalancerId, createdBy: this.app.service },
        region,
        databases,
        endpointUrl: this.regionalUrl.apply((url) => `${url}/readyz`),
        tls: args.domain !== undefined,
      },
      child,
    );

    new Monitoring(
      part("monitoring"),
      {
        prefix,
        provider,
        config: args.monitoring,
        alerts: args.alerts,
        appNamespace: this.app.namespace,
        metricsPort: METRICS_PORT,
        haFloor: args.app.replicas,
        fanoutP99Seconds: args.alerts.responseTimeMs / 1000,
        maxReplicationLagSeconds: args.maxReplicationLagSeconds,
        appResources: [this.app.deployment],
      },
      child,
    );

    this.projectUrns = [this.kubernetes.clusterUrn, this.valkey.clusterUrn, ...(this.postgres ? [this.postgres.clusterUrn] : [])];
    this.registerOutputs({ loadBalancerId: this.loadBalancerId, regionalUrl: this.regionalUrl });
  }
}
