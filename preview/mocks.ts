/**
 * What the cloud would answer, for the offline preview: the computed outputs a resource gets once created
 * (hosts, ports, URIs, kubeconfig, load balancer IP) and the data-source lookups the program makes.
 * Values are obviously fake (documentation IP range, `.invalid` hosts) so they are never mistaken for real ones.
 */
import * as random from "@pulumi/random";
import { DO_LOAD_BALANCER_ID_ANNOTATION, doLoadBalancerAnnotation } from "../infra/annotations";
import { INVOKE, TYPE, typeToken } from "../infra/type-tokens";

/** The policy pack does not depend on @pulumi/random, so its token is not in TYPE. */
const RANDOM_PASSWORD = typeToken(random.RandomPassword);

/** Public IP the mock load balancer gets (RFC 5737 documentation range). */
export const MOCK_LB_IP = "203.0.113.10";

const MOCK_KUBECONFIG = [
  "apiVersion: v1",
  "kind: Config",
  "clusters: [{name: offline-preview, cluster: {server: 'https://offline-preview.invalid'}}]",
  "contexts: [{name: offline-preview, context: {cluster: offline-preview, user: offline-preview}}]",
  "current-context: offline-preview",
  "users: [{name: offline-preview, user: {token: offline-preview}}]",
].join("\n");

/** Base64 of an obviously fake CA certificate, and the token the mock data source hands out. */
export const MOCK_CA_CERTIFICATE = Buffer.from("-----BEGIN CERTIFICATE-----\noffline-preview\n-----END CERTIFICATE-----\n").toString(
  "base64",
);
export const MOCK_CLUSTER_TOKEN = "offline-preview-token";
/** The databases' CA (getDatabaseCa answers it decoded, as PEM). */
export const MOCK_DATABASE_CA = "-----BEGIN CERTIFICATE-----\noffline-preview-database-ca\n-----END CERTIFICATE-----\n";

function databaseEndpoint(name: string, engine: unknown) {
  const valkey = engine === "valkey";
  const port = valkey ? 25061 : 25060;
  const host = `${name}.db.offline-preview.invalid`;
  const privateHost = `private-${host}`;
  const scheme = valkey ? "rediss" : "postgresql";
  const credentials = valkey ? "default:offline-password" : "doadmin:offline-password";
  const path = valkey ? "" : "/defaultdb?sslmode=require";
  return {
    host,
    privateHost,
    port,
    user: valkey ? "default" : "doadmin",
    password: "offline-password",
    database: valkey ? "" : "defaultdb",
    uri: `${scheme}://${credentials}@${host}:${port}${path}`,
    privateUri: `${scheme}://${credentials}@${privateHost}:${port}${path}`,
  };
}

/**
 * A Service of type LoadBalancer once the DigitalOcean CCM has made its load balancer: an ingress IP, and the
 * load balancer's id annotation (`<load balancer name>-id`, like every mock id).
 */
function loadBalancerService(name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const metadata = (inputs.metadata ?? {}) as { annotations?: Record<string, string> };
  const lbName = metadata.annotations?.[doLoadBalancerAnnotation("name")] ?? name;
  return {
    metadata: { ...metadata, annotations: { ...metadata.annotations, [DO_LOAD_BALANCER_ID_ANNOTATION]: `${lbName}-id` } },
    status: { loadBalancer: { ingress: [{ ip: MOCK_LB_IP }] } },
  };
}

/** Computed outputs of a newly created resource of `type`. */
export function mockResourceState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const id = `${name}-id`;
  switch (type) {
    case TYPE.vpc:
      return { urn: `do:vpc:${id}` };
    case TYPE.kubernetesCluster:
      return {
        clusterUrn: `do:kubernetes:${id}`,
        endpoint: `https://${id}.k8s.offline-preview.invalid`,
        kubeConfigs: [{ rawConfig: MOCK_KUBECONFIG }],
      };
    case TYPE.databaseCluster:
      return { clusterUrn: `do:dbaas:${id}`, ...databaseEndpoint(name, inputs.engine) };
    case TYPE.databaseReplica:
      return { uuid: id, ...databaseEndpoint(name, "pg") };
    case TYPE.databaseConnectionPool:
      return { ...databaseEndpoint(name, "pg"), port: 25061 };
    case TYPE.databaseUser:
      return { password: "offline-password" };
    case TYPE.certificate:
      return { uuid: id, state: "verified" };
    case TYPE.dnsRecord:
      return { fqdn: inputs.name === "@" ? inputs.domain : `${String(inputs.name)}.${String(inputs.domain)}` };
    case TYPE.service:
      return (inputs.spec as { type?: string } | undefined)?.type === "LoadBalancer" ? loadBalancerService(name, inputs) : {};
    case RANDOM_PASSWORD:
      return { result: "offline-random-password" };
    default:
      return {};
  }
}

/** Answers of the data sources (invokes) the program calls. */
export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case INVOKE.kubernetesVersions: {
      const prefix = String(inputs.versionPrefix ?? "1.33.");
      return { versionPrefix: prefix, latestVersion: `${prefix}1-do.0`, validVersions: [`${prefix}1-do.0`] };
    }
    case INVOKE.kubernetesCluster: {
      // The live cluster's fresh credentials (the cluster resource is named after its `name`).
      const name = String(inputs.name);
      const host = `https://${name}-id.k8s.offline-preview.invalid`;
      const kubeConfig = {
        host,
        clusterCaCertificate: MOCK_CA_CERTIFICATE,
        token: MOCK_CLUSTER_TOKEN,
        expiresAt: "2000-01-01T00:00:00Z",
        rawConfig: MOCK_KUBECONFIG,
      };
      return { id: `${name}-id`, name, endpoint: host, kubeconfigExpireSeconds: inputs.kubeconfigExpireSeconds, kubeConfigs: [kubeConfig] };
    }
    case INVOKE.databaseCa:
      return { id: String(inputs.clusterId), clusterId: inputs.clusterId, certificate: MOCK_DATABASE_CA };
    default:
      throw new Error(`offline preview: no mock for data source ${token}`);
  }
}
