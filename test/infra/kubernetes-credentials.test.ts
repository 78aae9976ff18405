/**
 * The Kubernetes provider's credentials under the mock runtime, run after run and in preview: what its
 * `kubeconfig` input is when the cluster is created, when it already exists and changes in place, and on
 * a later run with a new token. (The runtime is process-global: the scenarios run one after the other.)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { specialSecretSig, specialSigKey, unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { parse } from "yaml";
import { Kubernetes } from "../../infra/kubernetes";
import {
  KUBECONFIG_EXPIRE_SECONDS,
  doctlKubeconfig,
  providerKubeconfig,
  tokenDirectory,
  tokenFilePath,
  writeTokenFile,
} from "../../infra/kubeconfig";

const DOKS = "digitalocean:index/kubernetesCluster:KubernetesCluster";
const GET_CLUSTER = "digitalocean:index/getKubernetesCluster:getKubernetesCluster";
const CA = Buffer.from("-----BEGIN CERTIFICATE-----\ntest-ca\n-----END CERTIFICATE-----\n").toString("base64");
const SERVER = "https://doks-1234.k8s.ondigitalocean.invalid";

/** How the cluster looks to the program in a scenario. */
interface Scenario {
  preview: boolean;
  /** The cluster exists (its id is known); false = it is being created in this preview. */
  clusterExists: boolean;
  /** The token DigitalOcean hands out on this run. */
  token: string;
}

/** What one run registered for the provider, and which data sources it called. */
interface Run {
  /** The provider's `kubeconfig` input: its text, or "unknown" when it is not known in this preview. */
  kubeconfig: string | "unknown";
  clusterIdentifier: unknown;
  kubeconfigSecret: boolean;
  calls: { token: string; inputs: Record<string, unknown> }[];
  stackKubeconfig: string | "unknown";
}

type Struct = { toJavaScript(): Record<string, unknown> };
type Request = { getType(): string; getObject(): Struct };
type Monitor = { registerResource(req: Request, cb: (err: unknown, res: unknown) => void): Promise<void> };

const unwrap = (value: unknown): { value: unknown; secret: boolean } =>
  typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig
    ? { value: (value as { value: unknown }).value, secret: true }
    : { value, secret: false };

let tokenDir: string;
beforeAll(() => {
  tokenDir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-kube-test-"));
});
afterAll(() => fs.rmSync(tokenDir, { recursive: true, force: true }));

async function run(s: Scenario, name: string): Promise<Run> {
  const calls: Run["calls"] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.type !== DOKS) return { id: `${args.name}-id`, state: args.inputs };
        // An existing cluster changing in place: id known, but the outputs the update may change are unknown in a
        // preview (the pre-day-2 provider read its kubeconfig from exactly those: kubeConfigs).
        const state = { ...args.inputs, kubeConfigs: s.preview ? unknownValue : [{ rawConfig: "stale", token: "stale-token" }] };
        return { id: s.clusterExists ? "doks-1234" : "", state };
      },
      call: (args) => {
        calls.push({ token: args.token, inputs: args.inputs });
        if (args.token === GET_CLUSTER) {
          return { id: "doks-1234", name: args.inputs.name, kubeConfigs: [{ host: SERVER, clusterCaCertificate: CA, token: s.token }] };
        }
        return { latestVersion: "1.33.1-do.0" };
      },
    },
    "gomeet",
    "prod",
    s.preview,
  );
  const provider = new Promise<Request>((resolve) => {
    const monitor = pulumi.runtime.getMonitor() as unknown as Monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      if (req.getType() === "pulumi:providers:kubernetes") resolve(req);
      return register(req, cb);
    };
  });
  const kubernetes = new Kubernetes(name, {
    prefix: "gomeet-prod",
    region: "nyc3",
    vpcId: "vpc-1",
    config: {
      versionPrefix: "1.33.",
      nodeSize: "s-4vcpu-8gb",
      minNodes: 3,
      maxNodes: 6,
      maintenanceDay: "sunday",
      maintenanceStartTime: "04:00",
    },
    tokenDirectory: tokenDir,
  });
  const inputs = (await provider).getObject().toJavaScript();
  const kubeconfig = unwrap(inputs.kubeconfig);
  const stackKubeconfig = await new Promise<string | "unknown">((resolve) => {
    kubernetes.kubeconfig.apply((text) => resolve(text));
    void (kubernetes.kubeconfig as unknown as { isKnown: Promise<boolean> }).isKnown.then((known) => known || resolve("unknown"));
  });
  return {
    kubeconfig: kubeconfig.value === unknownValue ? "unknown" : String(kubeconfig.value),
    kubeconfigSecret: kubeconfig.secret,
    clusterIdentifier: unwrap(inputs.clusterIdentifier).value,
    calls,
    stackKubeconfig,
  };
}

const tokenFile = () => path.join(tokenDir, "gomeet-prod-doks.token");
let first: Run;

describe("pulumi up", () => {
  test("the provider's kubeconfig comes from the data source with a short expiry, the token in a file", async () => {
    first = await run({ preview: false, clusterExists: true, token: "token-run-1" }, "k1");
    expect(first.calls).toContainEqual({
      token: GET_CLUSTER,
      inputs: { name: "gomeet-prod-doks", kubeconfigExpireSeconds: KUBECONFIG_EXPIRE_SECONDS },
    });
    expect(KUBECONFIG_EXPIRE_SECONDS).toBeLessThanOrEqual(24 * 3600);
    const config = parse(first.kubeconfig as string);
    expect(config).toEqual({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "gomeet-prod-doks", cluster: { server: SERVER, "certificate-authority-data": CA } }],
      contexts: [{ name: "gomeet-prod-doks", context: { cluster: "gomeet-prod-doks", user: "gomeet-prod-doks" } }],
      "current-context": "gomeet-prod-doks",
      users: [{ name: "gomeet-prod-doks", user: { tokenFile: tokenFile() } }],
    });
    expect(first.kubeconfig).not.toContain("token-run-1");
    expect(first.kubeconfig).not.toContain("stale");
    expect(first.kubeconfigSecret).toBe(true);
    expect(fs.readFileSync(tokenFile(), "utf8")).toBe("token-run-1");
    expect(fs.statSync(tokenFile()).mode & 0o777).toBe(0o600);
    expect(first.clusterIdentifier).toBe("doks-1234");
  });

  test("a week later: a new token, and the very same kubeconfig, so the provider is neither updated nor replaced", async () => {
    const later = await run({ preview: false, clusterExists: true, token: "token-run-2" }, "k2");
    expect(later.kubeconfig).toBe(first.kubeconfig);
    expect(later.clusterIdentifier).toBe(first.clusterIdentifier);
    expect(fs.readFileSync(tokenFile(), "utf8")).toBe("token-run-2");
  });

  test("the stack's kubeconfig output holds no credential: doctl fetches one per use", async () => {
    const config = parse(first.stackKubeconfig as string);
    expect(config.users[0].user.exec).toEqual({
      apiVersion: "client.authentication.k8s.io/v1beta1",
      command: "doctl",
      args: ["kubernetes", "cluster", "kubeconfig", "exec-credential", "--version=v1beta1", "doks-1234"],
    });
    expect(first.stackKubeconfig).not.toMatch(/token/i);
  });
});

describe("pulumi preview", () => {
  test("the cluster exists and changes in place: the kubeconfig is known and unchanged (no provider replacement)", async () => {
    const preview = await run({ preview: true, clusterExists: true, token: "token-preview" }, "k3");
    expect(preview.kubeconfig).toBe(first.kubeconfig);
    expect(preview.clusterIdentifier).toBe("doks-1234");
    expect(preview.calls.map((c) => c.token)).toContain(GET_CLUSTER);
  });

  test("the cluster is being created: the data source is not asked and the kubeconfig is unknown", async () => {
    const preview = await run({ preview: true, clusterExists: false, token: "never" }, "k4");
    expect(preview.kubeconfig).toBe("unknown");
    expect(preview.calls.map((c) => c.token)).not.toContain(GET_CLUSTER);
    expect(preview.stackKubeconfig).toBe("unknown");
  });
});

describe("kubeconfig functions", () => {
  const endpoint = { name: "gomeet-prod-doks", server: SERVER, caCertificate: CA };

  test("the token directory is the same on every POSIX machine, whatever $TMPDIR says, unless set explicitly", () => {
    expect(tokenDirectory({ TMPDIR: "/home/runner/work/_temp" }, "linux")).toBe("/tmp/gomeet-kube");
    expect(tokenDirectory({}, "darwin")).toBe("/tmp/gomeet-kube");
    expect(tokenDirectory({ GOMEET_KUBE_TOKEN_DIR: "/srv/kube" }, "linux")).toBe("/srv/kube");
  });

  test("bad input gets an error naming it", () => {
    expect(() => providerKubeconfig({ ...endpoint, server: "" }, "/t/x.token")).toThrow("kubeconfig: server of gomeet-prod-doks is empty");
    expect(() => providerKubeconfig(endpoint, "relative.token")).toThrow('token file must be an absolute path, got "relative.token"');
    expect(() => doctlKubeconfig(endpoint, "")).toThrow("kubeconfig: cluster id is empty");
    expect(() => tokenFilePath(tokenDir, "../etc/passwd")).toThrow('cluster name "../etc/passwd" is not a DOKS cluster name');
    expect(() => writeTokenFile(path.join(tokenDir, "empty.token"), " ")).toThrow("kubeconfig: token for empty.token is empty");
    expect(fs.existsSync(path.join(tokenDir, "empty.token"))).toBe(false);
    const notADirectory = path.join(tokenDir, "file");
    fs.writeFileSync(notADirectory, "");
    expect(() => writeTokenFile(path.join(notADirectory, "x.token"), "t")).toThrow(
      /^kubeconfig: cannot write the cluster token to .*\/file\/x\.token \(.*\); set GOMEET_KUBE_TOKEN_DIR to a directory you own$/,
    );
  });
});
