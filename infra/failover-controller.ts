/**
 * The region failover controller, in the standby region's cluster: the app's image with another command
 * (`node dist/failover/controller-main.js`, the shared core of app/src/failover/), one replica, the DigitalOcean driver.
 * It watches the primary region from the standby region and from DigitalOcean's uptime probes, and in `automatic`
 * mode fails over on its own (fence, promote, switch the GLB, restore, confirm); in `manual` mode it only reports
 * (gomeet_region_primary_up, gomeet_failover_state) and an operator runs `npm run region-failover`.
 *
 * Its settings are one JSON document (FAILOVER_DIGITALOCEAN, not secret: ids, names, URLs) plus the API token
 * (DO_API_TOKEN, a Secret); app/src/failover/digitalocean-topology.ts validates the document, and
 * test/infra/failover-controller.test.ts checks that what the stack renders passes that validation.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { FAILOVER_ANNOTATIONS, SINGLETON_ANNOTATION } from "./annotations";
import { MONITORING_NAMESPACE } from "./monitoring-chart";
import { METRICS_LABEL, METRICS_PORT_NAME } from "./monitoring-manifests";
import { NON_PUBLIC_RANGES, PRIORITY_CLASS, SERVICE_ACCOUNT } from "./security-manifests";

/** What the DigitalOcean driver acts on: the same shape as app/src/failover/digitalocean-topology.ts. */
export interface FailoverTopology {
  /** The stack's public endpoint (through the GLB): the confirm step's synthetic write and WebSocket join go there. */
  entryUrl: string;
  glbId: string;
  /** The region that holds the primary database now, and the one that takes over. */
  primary: RegionTopology & { databaseId: string };
  standby: RegionTopology & { databaseName: string; databaseId: string };
  /** What the restore step puts on the promoted cluster: the app's pool, and a standby node. */
  restore: { pool: { name: string; mode: "transaction"; size: number; db: string; user: string }; size: string; numNodes: number };
  detection: { windowSeconds: number; intervalSeconds: number };
  mode: "automatic" | "manual";
}

/** One region as the driver sees it. */
export interface RegionTopology {
  region: string;
  loadBalancerId: string;
  /** `https://<region>.<host>`: the region's own endpoint, probed from the other region. */
  url: string;
  /** DigitalOcean's uptime check of that endpoint from four probe regions (its state is a vantage point). */
  uptimeCheckId: string;
}

/** Arguments of {@link FailoverController}. */
export interface FailoverControllerArgs {
  prefix: string;
  provider: k8s.Provider;
  namespace: pulumi.Input<string>;
  image: string;
  topology: pulumi.Input<FailoverTopology>;
  apiToken: pulumi.Input<string>;
  /** The failover mode, detection window and replication-lag alert threshold (the scorecard reads them as RTO / RPO). */
  recovery: { mode: "automatic" | "manual"; detectionWindowSeconds: number; maxReplicationLagSeconds: number };
  /** What the pod may not start before (the app's baseline: namespace, policies). */
  dependsOn: pulumi.Resource[];
}

export const CONTROLLER_LABELS = { "app.kubernetes.io/name": "gomeet-failover", "app.kubernetes.io/part-of": "gomeet" } as const;
export const CONTROLLER_COMMAND = ["node", "dist/failover/controller-main.js"];
/** The controller's /metrics and /healthz port. */
export const CONTROLLER_PORT = 9464;
/** Where the controller records a failover (app/src/failover/journal.ts FileJournal), on a volume that outlives the pod. */
export const JOURNAL_DIR = "/var/lib/gomeet-failover";
export const SINGLETON_REASON =
  "the region failover controller: two would race each other's DigitalOcean API calls; while it is down, failover is manual (npm run region-failover)";

/** The controller's Deployment spec: one replica (it must never race itself), restricted pod security, probes. */
export function controllerDeploymentSpec(
  image: string,
  secretName: pulumi.Input<string>,
  journalClaim: pulumi.Input<string>,
): k8s.types.input.apps.v1.DeploymentSpec {
  return {
    replicas: 1,
    // Recreate: never two controllers at once, not even during a rollout.
    strategy: { type: "Recreate" },
    selector: { matchLabels: { ...CONTROLLER_LABELS } },
    template: {
      metadata: { labels: { ...CONTROLLER_LABELS } },
      spec: {
        // The app's own ServiceAccount (no API token) and PriorityClass, from the namespace's security baseline.
        serviceAccountName: SERVICE_ACCOUNT,
        automountServiceAccountToken: false,
        priorityClassName: PRIORITY_CLASS,
        securityContext: {
          runAsNonRoot: true,
          runAsUser: 1000,
          runAsGroup: 1000,
          fsGroup: 1000,
          seccompProfile: { type: "RuntimeDefault" },
        },
        volumes: [{ name: "journal", persistentVolumeClaim: { claimName: journalClaim } }],
        containers: [
          {
            name: "controller",
            image,
            command: CONTROLLER_COMMAND,
            ports: [{ name: METRICS_PORT_NAME, containerPort: CONTROLLER_PORT }],
            envFrom: [{ secretRef: { name: secretName } }],
            env: [
              { name: "CONTROLLER_PORT", value: String(CONTROLLER_PORT) },
              { name: "FAILOVER_JOURNAL", value: `${JOURNAL_DIR}/journal.json` },
            ],
            volumeMounts: [{ name: "journal", mountPath: JOURNAL_DIR }],
            readinessProbe: { httpGet: { path: "/healthz", port: METRICS_PORT_NAME }, periodSeconds: 10 },
            livenessProbe: { httpGet: { path: "/healthz", port: METRICS_PORT_NAME }, periodSeconds: 10, failureThreshold: 6 },
            resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "250m", memory: "128Mi" } },
            securityContext: {
              allowPrivilegeEscalation: false,
              readOnlyRootFilesystem: true,
              capabilities: { drop: ["ALL"] },
            },
          },
        ],
      },
    },
  };
}

/** The controller, its Secret, and the NetworkPolicy that lets it out (the namespace denies all by default). */
export class FailoverController extends pulumi.ComponentResource {
  readonly deployment: k8s.apps.v1.Deployment;

  constructor(name: string, args: FailoverControllerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("gomeet:index:FailoverController", name, {}, opts);
    const child = { parent: this, provider: args.provider };
    const secret = new k8s.core.v1.Secret(
      `${args.prefix}-failover-secrets`,
      {
        metadata: { name: "gomeet-failover", namespace: args.namespace },
        type: "Opaque",
        stringData: {
          DO_API_TOKEN: pulumi.secret(args.apiToken),
          FAILOVER_DIGITALOCEAN: pulumi.output(args.topology).apply((t) => JSON.stringify(t)),
        },
      },
      child,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${args.prefix}-failover-egress`,
      {
        metadata: {
          name: "allow-failover-controller",
          namespace: args.namespace,
          annotations: {
            "gomeet.dev/purpose": "The failover controller calls DigitalOcean's API and probes both regions' public endpoints (HTTPS).",
          },
        },
        spec: {
          podSelector: { matchLabels: { ...CONTROLLER_LABELS } },
          policyTypes: ["Ingress", "Egress"],
          egress: [{ to: [{ ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_RANGES } }], ports: [{ protocol: "TCP", port: 443 }] }],
          // Prometheus scrapes its metrics; nothing else reaches it.
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": MONITORING_NAMESPACE } } }],
              ports: [{ protocol: "TCP", port: CONTROLLER_PORT }],
            },
          ],
        },
      },
      { ...child, dependsOn: args.dependsOn },
    );
    // The journal: a DigitalOcean block storage volume in the standby region (ReadWriteOnce: one pod, Recreate).
    const journal = new k8s.core.v1.PersistentVolumeClaim(
      `${args.prefix}-failover-journal`,
      {
        metadata: { name: "gomeet-failover-journal", namespace: args.namespace },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: "do-block-storage", resources: { requests: { storage: "1Gi" } } },
      },
      child,
    );
    this.deployment = new k8s.apps.v1.Deployment(
      `${args.prefix}-failover-controller`,
      {
        metadata: {
          name: "gomeet-failover",
          namespace: args.namespace,
          labels: { ...CONTROLLER_LABELS },
          annotations: {
            [SINGLETON_ANNOTATION]: SINGLETON_REASON,
            [FAILOVER_ANNOTATIONS.mode]: args.recovery.mode,
            [FAILOVER_ANNOTATIONS.detectionWindowSeconds]: String(args.recovery.detectionWindowSeconds),
            [FAILOVER_ANNOTATIONS.maxReplicationLagSeconds]: String(args.recovery.maxReplicationLagSeconds),
          },
        },
        spec: controllerDeploymentSpec(args.image, secret.metadata.name, journal.metadata.name),
      },
      { ...child, dependsOn: args.dependsOn },
    );
    // Scraped by the app's ServiceMonitor (it selects the metrics label and the `metrics` port): job gomeet-failover.
    new k8s.core.v1.Service(
      `${args.prefix}-failover-metrics`,
      {
        metadata: { name: "gomeet-failover-metrics", namespace: args.namespace, labels: { ...CONTROLLER_LABELS, ...METRICS_LABEL } },
        spec: {
          type: "ClusterIP",
          selector: { ...CONTROLLER_LABELS },
          ports: [{ name: METRICS_PORT_NAME, port: CONTROLLER_PORT, targetPort: METRICS_PORT_NAME, protocol: "TCP" }],
        },
      },
      { ...child, dependsOn: [this.deployment] },
    );
    this.registerOutputs({});
  }
}
