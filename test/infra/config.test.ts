/**
 * Stack config validation: each class of bad value stops the program with a message that names the key,
 * what was found and what is accepted; stack files are checked before the program runs.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../../infra/config";
import { cidrsOverlap } from "../../infra/provider-facts/cidr";
import { listStacks, PreviewInputError, readStackFile, SECRET_PLACEHOLDER } from "../../preview/stack-file";
import { ROOT } from "./plan-helpers";

const prod = readStackFile(ROOT, "prod");

/** Loads the prod config with `edit` applied to the parsed value of one key (undefined removes it). */
function loadWith(key: string, edit: (value: any) => any): () => unknown {
  const config = { ...prod.config };
  const current = config[`gomeet:${key}`];
  const parsed =
    current === undefined
      ? undefined
      : (() => {
          try {
            return JSON.parse(current);
          } catch {
            return current;
          }
        })();
  const next = edit(parsed);
  if (next === undefined) delete config[`gomeet:${key}`];
  else config[`gomeet:${key}`] = typeof next === "string" ? next : JSON.stringify(next);
  return () => {
    pulumi.runtime.setAllConfig(config, prod.secretKeys);
    return loadConfig();
  };
}

beforeAll(async () => {
  await pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name, state: a.inputs }), call: (a) => a.inputs }, "gomeet", "prod");
});

describe("loadConfig", () => {
  test("prod loads, with LiveKit as a secret and its names in the clear", async () => {
    pulumi.runtime.setAllConfig(prod.config, prod.secretKeys);
    const config = loadConfig();
    expect(config.livekitNames).toEqual(["nyc", "ams"]);
    expect(await pulumi.isSecret(config.livekit)).toBe(true);
    expect(config.postgres).toMatchObject({ nodeCount: 2, readReplicas: 1, database: "gomeet" });
  });

  test.each([
    ["a missing key", "postgres", () => undefined, /^gomeet:postgres: missing; expected/],
    ["a missing field", "kubernetes", (k: any) => ({ ...k, minNodes: undefined }), /^gomeet:kubernetes\.minNodes: missing; expected/],
    ["a wrong type", "postgres", (p: any) => ({ ...p, nodeCount: "two" }), /^gomeet:postgres\.nodeCount: got "two"; expected/],
    ["a value out of range", "valkey", (v: any) => ({ ...v, nodeCount: 7 }), /^gomeet:valkey\.nodeCount: got 7; expected .*<=3/],
    ["an unknown region", "region", () => "mars1", /^gomeet:region: got "mars1"; expected one of "nyc1", .*"fra1"/],
    [
      "an unknown eviction policy",
      "valkey",
      (v: any) => ({ ...v, evictionPolicy: "allkeysLru" }),
      /^gomeet:valkey\.evictionPolicy: got "allkeysLru"; expected one of "noeviction", "allkeys_lru"/,
    ],
    [
      "an unknown key (a typo)",
      "postgres",
      (p: any) => ({ ...p, nodecount: 2 }),
      /^gomeet:postgres\.nodecount: unknown key; accepted keys: version, size, nodeCount, /,
    ],
    [
      "an inconsistent range",
      "kubernetes",
      (k: any) => ({ ...k, maxNodes: 2 }),
      /^gomeet:kubernetes\.maxNodes: .*maxNodes must be ≥ minNodes/,
    ],
    [
      "an autoscaler ceiling under the floor",
      "app",
      (a: any) => ({ ...a, maxReplicas: 2 }),
      /^gomeet:app\.maxReplicas: .*maxReplicas must be ≥ replicas/,
    ],
    [
      "an image without a tag",
      "app",
      (a: any) => ({ ...a, image: "registry.digitalocean.com/gomeet/app" }),
      /^gomeet:app\.image: .*tag or digest/,
    ],
    [
      "a batching window over 100 ms",
      "app",
      (a: any) => ({ ...a, deliveryBatchMs: 250 }),
      /^gomeet:app\.deliveryBatchMs: got 250; expected .*<=100/,
    ],
    [
      "a production stack without the tokens' issuer",
      "app",
      (a: any) => ({ ...a, jwtIssuer: undefined }),
      /^gomeet:app\.jwtIssuer: missing; expected on a production stack \(prod\).*AUTH_JWT_ISSUER/,
    ],
    [
      "a production stack without the tokens' audience",
      "app",
      (a: any) => ({ ...a, jwtAudience: undefined }),
      /^gomeet:app\.jwtAudience: missing; expected on a production stack \(prod\).*AUTH_JWT_AUDIENCE/,
    ],
    [
      "an audience with surrounding spaces",
      "app",
      (a: any) => ({ ...a, jwtAudience: " gomeet " }),
      /^gomeet:app\.jwtAudience: got " gomeet "; expected 1-256 printable characters/,
    ],
    ["a bad email", "alerts", (a: any) => ({ ...a, emails: ["not-an-email"] }), /^gomeet:alerts\.emails\.0: got "not-an-email"/],
    [
      "no SMTP relay for Alertmanager's emails",
      "alerts",
      (a: any) => ({ ...a, smtp: undefined }),
      /^gomeet:alerts\.smtp: missing; expected/,
    ],
    [
      "an SMTP user without a password",
      "alerts",
      (a: any) => ({ ...a, smtp: { ...a.smtp, password: undefined } }),
      /^gomeet:alerts\.smtp\.password: .*go together/,
    ],
    [
      "a retention that is not a duration",
      "monitoring",
      (m: any) => ({ ...m, retention: "15 days" }),
      /^gomeet:monitoring\.retention: got "15 days"; expected a Prometheus duration/,
    ],
    [
      "a retention size without a unit",
      "monitoring",
      (m: any) => ({ ...m, retentionSize: "8" }),
      /^gomeet:monitoring\.retentionSize: got "8"; expected a size such as 8GiB/,
    ],
    [
      "a host outside its zone",
      "domain",
      () => ({ host: "meet.other.example", zone: "gomeet.example" }),
      /^gomeet:domain\.host: .*inside it/,
    ],
    ["duplicate LiveKit names", "livekit", (l: any) => [l[0], l[0]], /^gomeet:livekit: .*names must be unique/],
    ["no LiveKit deployment", "livekit", () => [], /^gomeet:livekit: .*expected .*>=1/],
    ["no VPC range", "network", () => undefined, /^gomeet:network: missing; expected/],
    [
      "more app replicas than nodes (one pod per node)",
      "app",
      (a: any) => ({ ...a, maxReplicas: 8 }),
      /^gomeet:app\.maxReplicas: got 8 with gomeet:kubernetes\.maxNodes 7; expected at most 6/,
    ],
    [
      "as many app replicas as nodes: a rollout at the ceiling has no node for its surge pod",
      "kubernetes",
      (k: any) => ({ ...k, maxNodes: 6 }),
      /^gomeet:app\.maxReplicas: got 6 with gomeet:kubernetes\.maxNodes 6; expected at most 5: .*surge pod/,
    ],
    [
      "PostgreSQL standby nodes on a 1 GB plan",
      "postgres",
      (p: any) => ({ ...p, size: "db-s-1vcpu-1gb", nodeCount: 2 }),
      /^gomeet:postgres\.size: got "db-s-1vcpu-1gb" with gomeet:postgres\.nodeCount 2; DigitalOcean requires a plan with at least 2 GB .*source: digitalocean\/openapi@[0-9a-f]{40}:.*docs\.digitalocean\.com/,
    ],
    [
      "two Valkey standbys",
      "valkey",
      (v: any) => ({ ...v, nodeCount: 3 }),
      /^gomeet:valkey\.nodeCount: got 3; DigitalOcean requires at most 2 nodes for valkey \(1 standby\).*add-standby-nodes/,
    ],
    [
      "a DOKS node below the smallest size DOKS offers",
      "kubernetes",
      (k: any) => ({ ...k, nodeSize: "s-1vcpu-1gb" }),
      /^gomeet:kubernetes\.nodeSize: got "s-1vcpu-1gb"; DigitalOcean requires a node size with at least 2 GB of memory/,
    ],
    [
      "a public VPC range",
      "network",
      () => ({ ipRange: "8.8.0.0/16" }),
      /^gomeet:network\.ipRange: got "8\.8\.0\.0\/16"; expected a private \(RFC 1918\) IPv4 range from \/16 to \/28/,
    ],
    [
      "a VPC range larger than /16",
      "network",
      () => ({ ipRange: "10.0.0.0/8" }),
      /^gomeet:network\.ipRange: got "10\.0\.0\.0\/8"; expected a private/,
    ],
    ["a VPC range with host bits set", "network", () => ({ ipRange: "10.20.1.0/16" }), /^gomeet:network\.ipRange: got "10\.20\.1\.0\/16"/],
    ["a VPC range straddling private space", "network", () => ({ ipRange: "172.31.255.0/16" }), /^gomeet:network\.ipRange: /],
  ])("%s is rejected with a message naming the key", (_name, key, edit, message) => {
    expect(loadWith(key, edit)).toThrow(expect.objectContaining({ name: "ConfigError", message: expect.stringMatching(message) }));
  });

  test("the cloud's size rules leave what DigitalOcean accepts alone", () => {
    // A single 1 GB node (staging's), three PostgreSQL nodes on 2 GB, a size whose slug does not name its memory.
    expect(loadWith("postgres", (p: any) => ({ ...p, size: "db-s-1vcpu-1gb", nodeCount: 1 }))).not.toThrow();
    expect(loadWith("postgres", (p: any) => ({ ...p, size: "db-s-1vcpu-2gb", nodeCount: 3 }))).not.toThrow();
    expect(loadWith("kubernetes", (k: any) => ({ ...k, nodeSize: "c-2" }))).not.toThrow();
  });

  test("a bad secret value is reported without printing it", () => {
    const run = loadWith("livekit", (l: any) => [{ ...l[0], url: "https://not-a-websocket-url" }]);
    expect(run).toThrow(/^gomeet:livekit\.0\.url: got a secret value; expected a ws:\/\/ or wss:\/\/ URL$/);
  });

  test("monitoring is optional: without it retention and storage take bounded defaults", () => {
    const config = loadWith("monitoring", () => undefined)() as ReturnType<typeof loadConfig>;
    expect(config.monitoring).toEqual({ retention: "15d", retentionSize: "8GiB", storageSize: "10Gi" });
  });

  test("the SMTP password is a secret", async () => {
    pulumi.runtime.setAllConfig(prod.config, prod.secretKeys);
    const password = loadConfig().alerts.smtp.password;
    expect(password).toBeDefined();
    expect(await pulumi.isSecret(password!)).toBe(true);
  });

  test("the domain is optional: without it the config carries none", () => {
    const config = loadWith("domain", () => undefined)() as ReturnType<typeof loadConfig>;
    expect(config.domain).toBeUndefined();
  });
});

describe("VPC ranges", () => {
  test("every stack of the repository has its own range: VPC ranges may not overlap within one account", () => {
    const stacks = listStacks(ROOT).filter((s) => !s.startsWith("test-"));
    const ranges = stacks.map((s) => [s, JSON.parse(readStackFile(ROOT, s).config["gomeet:network"]!).ipRange as string] as const);
    expect(ranges.length).toBeGreaterThanOrEqual(2);
    for (const [i, [a, ra]] of ranges.entries()) {
      for (const [b, rb] of ranges.slice(i + 1)) expect({ a, b, overlap: cidrsOverlap(ra, rb) }).toEqual({ a, b, overlap: false });
    }
    expect(cidrsOverlap("10.20.0.0/16", "10.20.128.0/20")).toBe(true);
  });
});

describe("stack files", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-stack-"));
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: gomeet\nruntime: nodejs\n");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("secure values become placeholders and mark their key secret; plain keys get the project namespace", () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.x.yaml"),
      "config:\n  region: nyc3\n  gomeet:livekit:\n    - name: a\n      apiKey:\n        secure: v1:abc\n",
    );
    const file = readStackFile(dir, "x");
    expect(file.config["gomeet:region"]).toBe("nyc3");
    expect(JSON.parse(file.config["gomeet:livekit"]!)).toEqual([{ name: "a", apiKey: SECRET_PLACEHOLDER }]);
    expect(file.secretKeys).toEqual(["gomeet:livekit"]);
  });

  test("an unknown stack names the missing file and the stacks that exist", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.dev.yaml"), "config: {}\n");
    expect(() => readStackFile(dir, "prdo")).toThrow(
      new PreviewInputError(`unknown stack "prdo": there is no Pulumi.prdo.yaml in ${dir} (stacks here: dev)`),
    );
  });

  test("a credential in plain text is refused with the exact path and the command that fixes it", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.x.yaml"), "config:\n  gomeet:livekit:\n    - name: a\n      apiSecret: hunter2\n");
    expect(() => readStackFile(dir, "x")).toThrow(
      /gomeet:livekit\[0\]\.apiSecret holds a credential in plain text: make it a secure value \(pulumi config set --secret --path/,
    );
  });

  test("invalid YAML names the file", () => {
    fs.writeFileSync(path.join(dir, "Pulumi.x.yaml"), "config:\n  a: [unclosed\n");
    expect(() => readStackFile(dir, "x")).toThrow(/Pulumi\.x\.yaml: not valid YAML/);
  });
});
