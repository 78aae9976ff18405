/**
 * The app namespace's security baseline as plain functions of typed settings: Pod Security Admission labels,
 * the app's own ServiceAccount and PriorityClass, and NetworkPolicies that deny everything by default and
 * then allow exactly what the service needs.
 */
import type * as k8s from "@pulumi/kubernetes";

type NetworkPolicySpec = k8s.types.input.networking.v1.NetworkPolicySpec;
type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type NetworkPolicyPort = k8s.types.input.networking.v1.NetworkPolicyPort;

/** The app's ServiceAccount (no API token is mounted: the app never calls the Kubernetes API). */
export const SERVICE_ACCOUNT = "gomeet";
/** The app's PriorityClass. */
export const PRIORITY_CLASS = "gomeet-realtime";
/**
 * Its value: above every workload without a class (0) and below the system classes (2000000000 and up), so
 * the realtime pods are scheduled before, and evicted after, batch or tooling pods on a full cluster.
 */
export const PRIORITY_VALUE = 100_000;

/** Pod Security Admission's label prefix (Kubernetes docs, "Pod Security Admission"). */
const PSA = "pod-security.kubernetes.io";
export const POD_SECURITY_LEVEL = "restricted";

/** `v<major>.<minor>` of the cluster's version prefix (`"1.33."` → `"v1.33"`): the policy version the labels pin. */
export function podSecurityVersion(versionPrefix: string): string {
  const match = /^(\d+)\.(\d+)\.?$/.exec(versionPrefix);
  if (!match) throw new Error(`podSecurityVersion: "${versionPrefix}" is not a version prefix such as "1.33."`);
  return `v${match[1]}.${match[2]}`;
}

/**
 * Namespace labels that enforce, audit and warn on the `restricted` Pod Security Standard, each pinned to
 * `version` so a cluster upgrade does not change what is admitted without a change here.
 */
export function podSecurityLabels(version: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const mode of ["enforce", "audit", "warn"]) {
    labels[`${PSA}/${mode}`] = POD_SECURITY_LEVEL;
    labels[`${PSA}/${mode}-version`] = version;
  }
  return labels;
}

/**
 * Ports of DigitalOcean's managed databases (digitalocean/openapi @ 7c1300c479fed9c353cda9fc21cd968619552304):
 * PostgreSQL nodes and replicas listen on 25060 (specification/resources/databases/responses/database_cluster.yml),
 * its connection pools on 25061 (responses/connection_pool.yml), and Valkey/Caching accepts TLS on 25061
 * (models/advanced_config/redis_advanced_config.yml, `redis_ssl`: "accepts only SSL connections on port 25061").
 */
export const DATABASE_PORTS = { postgres: 25060, pool: 25061, valkey: 25061 } as const;

/** Address ranges that are never "the internet" (RFC 1918, link-local incl. the metadata service, CGNAT). */
export const NON_PUBLIC_RANGES = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10"];

/** Settings the NetworkPolicies are built from. */
export interface NetworkPolicySettings {
  /** Labels of the app's pods. */
  appLabels: Record<string, string>;
  /** Port the app serves HTTP and WebSocket on (the load balancer's). */
  appPort: number;
  /** Port of the app's /metrics and detailed /readyz: the monitoring namespace's only. */
  metricsPort: number;
  /** Namespace of the Prometheus that scrapes the app. */
  monitoringNamespace: string;
  /** The VPC's range: the managed databases' private addresses are in it. */
  vpcCidr: string;
  /** TCP ports of the LiveKit deployments' URLs (they are outside the cluster, on public addresses). */
  livekitPorts: number[];
  /** TCP port of the JWKS URL, when users' tokens are verified with one. */
  jwksPort?: number;
}

/** One NetworkPolicy: its name and spec. */
export interface NamedNetworkPolicy {
  name: string;
  /** What it allows, in words (also the object's description annotation). */
  purpose: string;
  spec: NetworkPolicySpec;
}

const tcp = (port: number): NetworkPolicyPort => ({ protocol: "TCP", port });
const publicInternet: NetworkPolicyPeer = { ipBlock: { cidr: "0.0.0.0/0", except: NON_PUBLIC_RANGES } };

/**
 * The namespace's NetworkPolicies: `default-deny` (every pod, ingress and egress, no rule), then one allow per
 * need. Policies are additive: a connection passes if any policy selecting the pod allows it.
 *
 * - ingress from anywhere to the app port: the DigitalOcean load balancer forwards clients' connections
 *   (their addresses are arbitrary) and runs its health checks on it;
 * - ingress from the monitoring namespace, and from nowhere else, to the metrics port (the scrape of /metrics;
 *   the detailed /readyz is there too): no Service the load balancer uses exposes it, and this keeps a pod on
 *   another namespace (or a node's NodePort) from reading it;
 * - egress to kube-dns (UDP and TCP 53) for every pod of the namespace;
 * - egress to the VPC range on the managed databases' ports;
 * - egress to public addresses on the LiveKit ports (health checks of the deployments), and on the JWKS port.
 *   NetworkPolicy matches addresses, not names: this opens those ports to any public address.
 */
export function networkPolicies(s: NetworkPolicySettings): NamedNetworkPolicy[] {
  const app = { matchLabels: { ...s.appLabels } };
  const policies: NamedNetworkPolicy[] = [
    {
      name: "default-deny",
      purpose: "Denies all ingress and egress of every pod in the namespace unless another policy allows it.",
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      name: "allow-load-balancer",
      purpose: "Clients through the load balancer, and its health checks, reach the app port.",
      spec: { podSelector: app, policyTypes: ["Ingress"], ingress: [{ ports: [tcp(s.appPort)] }] },
    },
    {
      name: "allow-monitoring-scrape",
      purpose: `Only Prometheus in namespace ${s.monitoringNamespace} reaches the metrics port (/metrics, the detailed /readyz).`,
      spec: {
        podSelector: app,
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": s.monitoringNamespace } } }],
            ports: [tcp(s.metricsPort)],
          },
        ],
      },
    },
    {
      name: "allow-dns",
      purpose: "Every pod resolves names through kube-dns (CoreDNS in kube-system, label k8s-app=kube-dns).",
      spec: {
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
    },
    {
      name: "allow-databases",
      purpose: "The app reaches managed PostgreSQL (25060, pool 25061) and Valkey (25061) at their private addresses in the VPC.",
      spec: {
        podSelector: app,
        policyTypes: ["Egress"],
        egress: [{ to: [{ ipBlock: { cidr: s.vpcCidr } }], ports: [...new Set(Object.values(DATABASE_PORTS))].sort().map(tcp) }],
      },
    },
    {
      name: "allow-livekit",
      purpose: `The app health-checks its LiveKit deployments on public addresses (TCP ${s.livekitPorts.join(", ")}).`,
      spec: { podSelector: app, policyTypes: ["Egress"], egress: [{ to: [publicInternet], ports: s.livekitPorts.map(tcp) }] },
    },
  ];
  if (s.jwksPort !== undefined) {
    policies.push({
      name: "allow-jwks",
      purpose: `The app fetches the users' token key set (JWKS) on public addresses (TCP ${s.jwksPort}).`,
      spec: { podSelector: app, policyTypes: ["Egress"], egress: [{ to: [publicInternet], ports: [tcp(s.jwksPort)] }] },
    });
  }
  return policies;
}
