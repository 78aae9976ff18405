/**
 * Kubeconfigs for the DOKS cluster, as plain functions of the cluster's coordinates.
 *
 * DOKS tokens expire (7 days by default) and the cluster resource refreshes its stored kubeconfig only on a
 * read, so a provider built from `cluster.kubeConfigs` fails a week after the last refresh with "the server has
 * asked for the client to provide credentials" (pulumi/pulumi-digitalocean#77, #312, #445). The provider
 * therefore takes a fresh short-lived token from the `getKubernetesCluster` data source on every run: its read
 * always asks DigitalOcean for new credentials with `kubeconfig_expire_seconds`
 * (digitalocean/terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f,
 * digitalocean/kubernetes/datasource_kubernetes_cluster.go, dataSourceDigitalOceanKubernetesClusterRead, and
 * resource_kubernetes_cluster.go, digitaloceanKubernetesClusterRead: credentials are fetched when none are held).
 *
 * The token is written to a file the kubeconfig points at (`tokenFile`, client-go's AuthInfo field:
 * kubernetes/kubernetes@bc76884117d6bfed1002cb6f71bb1461e44da2d8,
 * staging/src/k8s.io/client-go/tools/clientcmd/api/types.go), not into the kubeconfig itself: the provider's
 * `kubeconfig` input then stays byte-for-byte the same from run to run (server, CA, names, file path), so a
 * deploy does not update the provider every time and the nightly `pulumi preview --expect-no-changes` can pass
 * (any non-"same" step counts as a change: pulumi/pulumi@90a827951d39463c480aa476a8beb575dfb0a398,
 * pkg/engine/update.go, ResourceChanges.HasChanges).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";

/**
 * Lifetime of the token the provider gets on each run: longer than the longest CI job that uses it (the
 * deploy job's 60-minute timeout) with margin, short enough that a token left on a runner is soon useless.
 */
export const KUBECONFIG_EXPIRE_SECONDS = 2 * 60 * 60;

/** Environment variable that moves the token directory (the offline preview points it at its own). */
export const TOKEN_DIR_ENV = "GOMEET_KUBE_TOKEN_DIR";

/**
 * Where the provider's token files live: `$GOMEET_KUBE_TOKEN_DIR`, else `/tmp/gomeet-kube` (on Windows
 * `<os tmpdir>\gomeet-kube`). The path is part of the provider's kubeconfig, so it is the same on every machine
 * by default (not `os.tmpdir()`, which follows `$TMPDIR`): a CI runner and a laptop produce the same kubeconfig,
 * and one's run does not show the provider updated after the other's.
 */
export function tokenDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env[TOKEN_DIR_ENV]) return env[TOKEN_DIR_ENV];
  return platform === "win32" ? path.join(os.tmpdir(), "gomeet-kube") : "/tmp/gomeet-kube";
}

/** The cluster's coordinates, as the `getKubernetesCluster` data source returns them. */
export interface ClusterEndpoint {
  /** Name used for the kubeconfig's cluster, context and user entries: the DOKS cluster's own name. */
  name: string;
  /** API server URL (`kubeConfigs[0].host`). */
  server: string;
  /** Base64 PEM of the cluster CA (`kubeConfigs[0].clusterCaCertificate`, already base64 as the provider flattens it). */
  caCertificate: string;
}

function requireText(what: string, value: string): void {
  if (!value || !value.trim()) throw new Error(`kubeconfig: ${what} is empty`);
}

/**
 * The provider's kubeconfig: one cluster, context and user, all named after the DOKS cluster (stable for the
 * cluster's life, so the provider's active cluster never looks different to pulumi-kubernetes' DiffConfig),
 * authenticating with the bearer token in `tokenFile`.
 */
export function providerKubeconfig(cluster: ClusterEndpoint, tokenFile: string): string {
  requireText("cluster name", cluster.name);
  if (!path.isAbsolute(tokenFile)) throw new Error(`kubeconfig: token file must be an absolute path, got ${JSON.stringify(tokenFile)}`);
  return kubeconfigFor(cluster, { tokenFile });
}

/**
 * A kubeconfig for people (the stack output): no credential in it; `doctl` fetches and renews one on each use,
 * as `doctl kubernetes cluster kubeconfig save` configures it (digitalocean/doctl@168188d3e016be2768406a0b3dc615966f6555a9,
 * commands/kubernetes.go: ExecConfig calling `doctl kubernetes cluster kubeconfig exec-credential --version=v1beta1 <id>`).
 */
export function doctlKubeconfig(cluster: ClusterEndpoint, clusterId: string): string {
  requireText("cluster id", clusterId);
  return kubeconfigFor(cluster, {
    exec: {
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "doctl",
      args: ["kubernetes", "cluster", "kubeconfig", "exec-credential", "--version=v1beta1", clusterId],
    },
  });
}

/** One cluster, context and user, all named after the cluster; `user` says how to authenticate. */
function kubeconfigFor(cluster: ClusterEndpoint, user: Record<string, unknown>): string {
  requireText(`server of ${cluster.name}`, cluster.server);
  requireText(`CA certificate of ${cluster.name}`, cluster.caCertificate);
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: cluster.name, cluster: { server: cluster.server, "certificate-authority-data": cluster.caCertificate } }],
    contexts: [{ name: cluster.name, context: { cluster: cluster.name, user: cluster.name } }],
    "current-context": cluster.name,
    users: [{ name: cluster.name, user }],
  });
}

/** Path of the token file of cluster `name` in `directory`. */
export function tokenFilePath(directory: string, name: string): string {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) throw new Error(`kubeconfig: cluster name ${JSON.stringify(name)} is not a DOKS cluster name`);
  return path.join(path.resolve(directory), `${name}.token`);
}

/**
 * Writes `token` to `file`, readable by this user only, atomically (a reader never sees half a token).
 * Returns `file`.
 */
export function writeTokenFile(file: string, token: string): string {
  requireText(`token for ${path.basename(file)}`, token);
  const partial = `${file}.${process.pid}.partial`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(partial, token, { mode: 0o600 });
    fs.renameSync(partial, file);
  } catch (err) {
    const reason = (err as Error).message;
    throw new Error(`kubeconfig: cannot write the cluster token to ${file} (${reason}); set ${TOKEN_DIR_ENV} to a directory you own`);
  }
  return file;
}
