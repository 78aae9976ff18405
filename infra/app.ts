import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import * as random from "@pulumi/random";
import type { AppConfig, LivekitDeployment } from "./config";
import {
  APP_PORT,
  METRICS_PORT,
  appLabels,
  DATABASE_CA_KEYS,
  deploymentSpec,
  loadBalancerIdOf,
  secretChecksum,
  secretKeys,
  serviceMetadata,
  serviceSpec,
  type SecretKey,
} from "./app-manifests";
import { SecurityBaseline } from "./security-baseline";
import { podSecurityLabels } from "./security-manifests";

/** Arguments of {@link App}. */
export interface AppArgs {
  /** Name prefix of every resource of the stack, e.g. `gomeet-prod`. */
  prefix: string;
  /** Provider of the cluster to deploy into. */
  provider: k8s.Provider;
  config: AppConfig;
  /** PostgreSQL URL through the pool (secret). */
  databaseUrl: pulumi.Input<string>;
  /** Read-replica URLs (secret). */
  databaseReplicaUrls: pulumi.Input<string[]>;
  /** Valkey URL (secret). */
  redisUrl: pulumi.Input<string>;
  /** LiveKit deployments (secret) and their names (not secret). */
  livekit: pulumi.Input<LivekitDeployment[]>;
  livekitNames: string[];
  /** What serves the resource metrics API the autoscaler reads (metrics-server); the autoscaler is created after it. */
  metricsApi?: pulumi.Resource;
  /** DigitalOcean certificate name when a domain is configured. */
  certificateName?: pulumi.Input<string>;
  /** DigitalOcean's CA certificates (PEM) of the PostgreSQL and Valkey clusters (`getDatabaseCa`). */
  databaseCa: { postgres: pulumi.Input<string>; valkey: pulumi.Input<string> };
  /** The region the app runs in, in a stack with a standby region (REGION_NAME, REGION_ROLE=auto); absent with one region. */
  region?: string;
  /** The namespace's security baseline: what its NetworkPolicies allow, and the Pod Security version pinned. */
  security: {
    /** e.g. `v1.33`: the `restricted` standard of that Kubernetes version (security-manifests.ts). */
    podSecurityVersion: string;
    vpcCidr: string;
    monitoringNamespace: string;
    livekitPorts: number[];
  };
}

/**
 * The realtime service on Kubernetes: namespace, secret, a spread-out Deployment with zero-downtime
 * rollouts, a disruption budget, an autoscaler that never goes below the HA floor, and a DigitalOcean
 * load balancer that carries WebSockets.
 */
export class App extends pulumi.ComponentResource {
  /** The load balancer's DigitalOcean id, as the CCM writes it on the Service (for alerts). */
  readonly loadBalancerId: pulumi.Output<string>;
  /** Public IP of the load balancer. */
  readonly loadBalancerIp: pulumi.Output<string>;
  /** The Service (the load balancer exists once it is ready). */
  readonly service: k8s.core.v1.Service;
  /** The app's namespace, and the Deployment (monitoring objects go next to it). */
  readonly namespace: pulumi.Output<string>;
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:App", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const namespace = new k8s.core.v1.Namespace(
      `${args.prefix}-ns`,
      { metadata: { name: "gomeet", labels: podSecurityLabels(args.security.podSecurityVersion) } },
      child,
    );
    const ns = namespace.metadata.name;
    this.namespace = ns;

    const jwksUrl = args.config.jwksUrl === undefined ? undefined : new URL(args.config.jwksUrl);
    const baseline = new SecurityBaseline(
      // The first cell's App is "app" and keeps the name its baseline had before there were two regions (its URN).
      name === "app" ? "security" : `${name}-security`,
      {
        prefix: args.prefix,
        provider: args.provider,
        namespace: ns,
        network: {
          appLabels: appLabels(),
          appPort: APP_PORT,
          metricsPort: METRICS_PORT,
          monitoringNamespace: args.security.monitoringNamespace,
          vpcCidr: args.security.vpcCidr,
          livekitPorts: args.security.livekitPorts,
          jwksPort: jwksUrl === undefined ? undefined : Number(jwksUrl.port || 443),
        },
      },
      { parent: this },
    );
    // Public certificates, not secrets: a ConfigMap keeps them readable in a diff.
    const databaseCa = new k8s.core.v1.ConfigMap(
      `${args.prefix}-database-ca`,
      {
        metadata: { name: "gomeet-database-ca", namespace: ns },
        data: { [DATABASE_CA_KEYS.postgres]: args.databaseCa.postgres, [DATABASE_CA_KEYS.valkey]: args.databaseCa.valkey },
      },
      child,
    );

    // With a JWKS URL the app verifies users' tokens with it, and there is no shared secret to generate.
    const authSecret =
      args.config.jwksUrl === undefined
        ? new random.RandomPassword(`${args.prefix}-auth-jwt-secret`, { length: 64, special: false }, { parent: this })
        : undefined;
    const all: Partial<Record<SecretKey, pulumi.Input<string>>> = {
      DATABASE_URL: args.databaseUrl,
      DATABASE_REPLICA_URLS: pulumi.output(args.databaseReplicaUrls).apply((urls) => urls.join(",")),
      REDIS_URL: args.redisUrl,
      LIVEKIT_DATACENTERS: pulumi.output(args.livekit).apply((l) => JSON.stringify(l)),
      AUTH_JWT_SECRET: authSecret?.result,
    };
    const values = Object.fromEntries(secretKeys(args.config).map((key) => [key, all[key] as pulumi.Input<string>]));
    const stringData = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, pulumi.secret(v)]));
    // Computed inside the apply, so the values never leave it; only the hash is unsecreted.
    const checksum = pulumi.unsecret(pulumi.all(values).apply(secretChecksum));
    const secret = new k8s.core.v1.Secret(
      `${args.prefix}-secrets`,
      { metadata: { name: "gomeet-secrets", namespace: ns }, type: "Opaque", stringData },
      child,
    );

    const deployment = new k8s.apps.v1.Deployment(
      `${args.prefix}-app`,
      {
        metadata: { name: "gomeet", namespace: ns, labels: appLabels() },
        spec: deploymentSpec({
          app: args.config,
          secretName: secret.metadata.name,
          secretChecksum: checksum,
          livekitNames: args.livekitNames,
          serviceAccountName: baseline.serviceAccountName,
          priorityClassName: baseline.priorityClassName,
          databaseCaConfigMap: databaseCa.metadata.name,
          region: args.region,
        }),
      },
      // The HorizontalPodAutoscaler below owns the replica count once the Deployment exists: `spec.replicas` is
      // the count it is created with, and later runs leave it to the HPA. With server-side apply (pulumi-kubernetes
      // v4's default) a field under ignoreChanges that another field manager (the HPA's kube-controller-manager)
      // owns is dropped from the patch, otherwise it is sent with its live value
      // (pulumi/pulumi-kubernetes@94977969d64112b04e19945818a7d5d5f38f631d:provider/pkg/await/await.go,
      // handleSSAIgnoreFields): no conflict with the controller manager after a scale-out, no scale-in back to
      // `replicas` on the next `pulumi up`, and no drift reported for the HPA's count.
      { ...child, dependsOn: [baseline], ignoreChanges: ["spec.replicas"] },
    );

    this.deployment = deployment;

    new k8s.policy.v1.PodDisruptionBudget(
      `${args.prefix}-pdb`,
      {
        metadata: { name: "gomeet", namespace: ns },
        spec: { minAvailable: args.config.minAvailable, selector: { matchLabels: appLabels() } },
      },
      child,
    );

    new k8s.autoscaling.v2.HorizontalPodAutoscaler(
      `${args.prefix}-hpa`,
      {
        metadata: { name: "gomeet", namespace: ns },
        spec: {
          scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: deployment.metadata.name },
          minReplicas: args.config.replicas,
          maxReplicas: args.config.maxReplicas,
          metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
        },
      },
      { ...child, dependsOn: args.metricsApi ? [args.metricsApi] : [] },
    );

    const loadBalancerName = `${args.prefix}-lb`; // the name the load balancer gets at DigitalOcean
    this.service = new k8s.core.v1.Service(
      `${args.prefix}-service`,
      {
        metadata: serviceMetadata(ns, { name: loadBalancerName, app: args.config, certificateName: args.certificateName }),
        spec: serviceSpec(args.certificateName !== undefined),
      },
      { ...child, dependsOn: [deployment] },
    );
    this.loadBalancerIp = this.service.status.loadBalancer.ingress.apply((ingress) => ingress?.[0]?.ip ?? "");
    this.loadBalancerId = this.service.metadata.annotations.apply((annotations) => loadBalancerIdOf(loadBalancerName, annotations));
    this.registerOutputs({ loadBalancerIp: this.loadBalancerIp });
  }
}
