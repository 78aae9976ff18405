/**
 * The DigitalOcean failover driver against a stand-in API on 127.0.0.1 that checks every request, and every answer it
 * gives, against DigitalOcean's published OpenAPI definitions (distilled at digitalocean/openapi@
 * 7c1300c479fed9c353cda9fc21cd968619552304 into test/failover/digitalocean-openapi.json).
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { DigitalOceanApi } from "../../app/src/failover/digitalocean-api";
import { DigitalOceanDriver, FENCE_TAG } from "../../app/src/failover/digitalocean-driver";
import type { FailoverTopology } from "../../app/src/failover/digitalocean-topology";
import { runFailover } from "../../app/src/failover/failover";
import { MemoryJournal } from "../../app/src/failover/journal";
import { OpenApiValidator } from "./openapi-validator";
import { StandInApi, type StandInState } from "./stand-in-api";

const ids = {
  glb: randomUUID(),
  nyc3Lb: randomUUID(),
  tor1Lb: randomUUID(),
  primary: randomUUID(),
  node: randomUUID(),
  nyc3Check: randomUUID(),
};
const NODE_NAME = "gomeet-prod-pg-tor1";
const created = "2026-12-07T10:00:00Z";

function state(): StandInState {
  const regional = (id: string, region: string) => ({
    id,
    name: `lb-${region}`,
    type: "REGIONAL",
    region: { slug: region },
    forwarding_rules: [],
  });
  return {
    loadBalancers: {
      [ids.glb]: {
        id: ids.glb,
        name: "gomeet-prod-glb",
        type: "GLOBAL",
        target_load_balancer_ids: [ids.nyc3Lb, ids.tor1Lb],
        glb_settings: {
          target_protocol: "https",
          target_port: 443,
          region_priorities: { nyc3: 1, tor1: 2 },
          failover_threshold: 50,
          cdn: { is_enabled: false },
        },
        domains: [{ name: "meet.gomeet.example", is_managed: true, certificate_id: randomUUID() }],
        health_check: {
          protocol: "https",
          port: 443,
          path: "/readyz",
          check_interval_seconds: 10,
          response_timeout_seconds: 5,
          healthy_threshold: 3,
          unhealthy_threshold: 3,
        },
        redirect_http_to_https: true,
        http_idle_timeout_seconds: 600,
      },
      [ids.nyc3Lb]: regional(ids.nyc3Lb, "nyc3"),
      [ids.tor1Lb]: regional(ids.tor1Lb, "tor1"),
    },
    clusters: {
      [ids.primary]: {
        id: ids.primary,
        name: "gomeet-prod-pg",
        engine: "pg",
        version: "16",
        num_nodes: 2,
        size: "db-s-2vcpu-4gb",
        region: "nyc3",
        status: "online",
        created_at: created,
        rules: [{ type: "k8s", value: randomUUID() }],
        pools: { "gomeet-pool": { name: "gomeet-pool", mode: "transaction", size: 22, db: "gomeet", user: "gomeet" } },
        replicas: {
          [NODE_NAME]: { id: ids.node, name: NODE_NAME, region: "tor1", size: "db-s-2vcpu-4gb", status: "online", created_at: created },
        },
      },
    },
    uptime: { [ids.nyc3Check]: { us_east: "UP", us_west: "UP", eu_west: "UP", se_asia: "UP" } },
  };
}

const topology = (entryUrl: string, nyc3Url: string): FailoverTopology => ({
  entryUrl,
  glbId: ids.glb,
  primary: { region: "nyc3", loadBalancerId: ids.nyc3Lb, url: nyc3Url, uptimeCheckId: ids.nyc3Check, databaseId: ids.primary },
  standby: {
    region: "tor1",
    loadBalancerId: ids.tor1Lb,
    url: "https://tor1.meet.gomeet.example",
    uptimeCheckId: randomUUID(),
    databaseName: NODE_NAME,
    databaseId: ids.node,
  },
  restore: {
    pool: { name: "gomeet-pool", mode: "transaction", size: 22, db: "gomeet", user: "gomeet" },
    size: "db-s-2vcpu-4gb",
    numNodes: 2,
  },
  detection: { windowSeconds: 120, intervalSeconds: 15 },
  mode: "automatic",
});

const log = { info: () => undefined, warn: () => undefined, error: () => undefined };

let api: StandInApi;
let region: http.Server;
let regionStatus = 200;
const probes: string[] = [];

function driver(overrides: Partial<ConstructorParameters<typeof DigitalOceanDriver>[0]> = {}) {
  const regionUrl = `http://127.0.0.1:${(region.address() as AddressInfo).port}`;
  return new DigitalOceanDriver({
    topology: topology("https://meet.gomeet.example", regionUrl),
    api: new DigitalOceanApi({ baseUrl: api.url, token: api.token, backoffMs: 5, attempts: 3 }),
    entryProbe: async (url) => void probes.push(url),
    pollIntervalMs: 5,
    pollTimeoutMs: 2000,
    ...overrides,
  });
}

beforeEach(async () => {
  api = await new StandInApi(state()).start();
  probes.length = 0;
  regionStatus = 200;
  region = http.createServer((_req, res) => res.writeHead(regionStatus).end());
  await new Promise<void>((resolve) => region.listen(0, "127.0.0.1", resolve));
});
afterEach(async () => {
  await api.stop();
  await new Promise<void>((resolve) => region.close(() => resolve()));
  expect(api.violations).toEqual([]);
});

test("a failover nyc3 -> tor1: every request is a valid DigitalOcean call, and the end state is the standby serving alone", async () => {
  const result = await runFailover(driver(), { from: "nyc3", to: "tor1", log, journal: new MemoryJournal() });
  expect(result.ran).toEqual(["fence", "promote", "switch-entry", "restore", "confirm"]);

  expect(api.mutations().map((r) => `${r.method} ${r.path}`)).toEqual([
    `PUT /v2/load_balancers/${ids.glb}`,
    `PUT /v2/databases/${ids.primary}/firewall`,
    `PUT /v2/databases/${ids.primary}/replicas/${NODE_NAME}/promote`,
    `PUT /v2/load_balancers/${ids.glb}`,
    `POST /v2/databases/${ids.node}/pools`,
    `PUT /v2/databases/${ids.node}/resize`,
  ]);
  const glb = api.state.loadBalancers[ids.glb]!;
  expect(glb.target_load_balancer_ids).toEqual([ids.tor1Lb]);
  expect(glb.glb_settings).toEqual({
    target_protocol: "https",
    target_port: 443,
    region_priorities: { tor1: 1 },
    failover_threshold: 50,
    cdn: { is_enabled: false },
  });
  expect(glb.domains).toEqual([expect.objectContaining({ name: "meet.gomeet.example", is_managed: true })]); // kept
  expect(api.state.clusters[ids.primary]!.rules).toEqual([expect.objectContaining({ type: "tag", value: FENCE_TAG })]);
  expect(api.state.clusters[ids.primary]!.replicas).toEqual({});
  const promoted = api.state.clusters[ids.node]!;
  expect(promoted).toMatchObject({ status: "online", num_nodes: 2, region: "tor1" });
  expect(promoted.pools["gomeet-pool"]).toEqual({ name: "gomeet-pool", mode: "transaction", size: 22, db: "gomeet", user: "gomeet" });
  expect(probes).toEqual(["https://meet.gomeet.example"]);
});

test("every step is idempotent: run again on the end state, nothing is changed", async () => {
  const d = driver();
  await runFailover(d, { from: "nyc3", to: "tor1", log });
  const before = api.mutations().length;
  for (const step of [
    () => d.fence("nyc3"),
    () => d.promote("tor1"),
    () => d.switchEntry("tor1"),
    () => d.restore("tor1"),
    () => d.confirm("tor1"),
  ]) {
    await step();
  }
  expect(api.mutations().length).toBe(before);
});

test("a step that fails part-way stops the run naming it; the re-run finishes from there (5xx answers are retried first)", async () => {
  api.fail("PUT", `/v2/databases/${ids.node}/resize`, 503, 3); // more than the client's 3 attempts
  const journal = new MemoryJournal();
  await expect(runFailover(driver(), { from: "nyc3", to: "tor1", log, journal })).rejects.toThrow(
    /failover step "restore" failed: DigitalOcean API PUT \/v2\/databases\/.+\/resize: HTTP 503 \(server_error: injected fault\)/,
  );
  expect(api.state.clusters[ids.node]!.num_nodes).toBe(1);
  const again = await runFailover(driver(), { from: "nyc3", to: "tor1", log, journal });
  expect(again.ran).toEqual(["restore", "confirm"]);
  expect(api.state.clusters[ids.node]!.num_nodes).toBe(2);
});

test("the confirm step fails when the GLB still targets the lost region", async () => {
  await expect(driver().confirm("tor1")).rejects.toThrow(/GLB .* targets .*; expected only tor1's load balancer/);
});

test("promote: the node already promoted is not promoted again; neither replica nor cluster is an error", async () => {
  const d = driver();
  await d.promote("tor1");
  await d.promote("tor1");
  expect(api.mutations().filter((r) => r.path.endsWith("/promote"))).toHaveLength(1);
  delete api.state.clusters[ids.node];
  await expect(d.promote("tor1")).rejects.toThrow(/nothing to promote/);
});

test("the driver fails over primary -> standby only", async () => {
  expect(() => driver().plan("tor1", "nyc3")).toThrow(/fails over nyc3 -> tor1 only \(asked tor1 -> nyc3\)/);
  await expect(driver().fence("tor1")).rejects.toThrow(/only/);
});

test("the plan (--dry-run) names every request of every step, and sends none", () => {
  const plan = driver().plan("nyc3", "tor1");
  expect(plan.map((p) => p.step)).toEqual(["fence", "promote", "switch-entry", "restore", "confirm"]);
  expect(plan.find((p) => p.step === "promote")!.requests).toContain(`PUT /v2/databases/${ids.primary}/replicas/${NODE_NAME}/promote`);
  expect(api.requests).toEqual([]);
});

test("vantage points: the region's own /readyz, and DigitalOcean's uptime state (down only when every probe region says DOWN)", async () => {
  const [readyz, uptime] = driver().vantagePoints("nyc3");
  const signal = AbortSignal.timeout(5000);
  expect(await readyz!.probe(signal)).toBe(true);
  regionStatus = 503;
  expect(await readyz!.probe(signal)).toBe(false);
  expect(await uptime!.probe(signal)).toBe(true);
  api.state.uptime[ids.nyc3Check] = { us_east: "DOWN", us_west: "DOWN", eu_west: "UP", se_asia: "DOWN" };
  expect(await uptime!.probe(signal)).toBe(true);
  api.state.uptime[ids.nyc3Check]!.eu_west = "DOWN";
  expect(await uptime!.probe(signal)).toBe(false);
});

describe("the stand-in's validation catches what DigitalOcean would refuse", () => {
  const validator = new OpenApiValidator();
  const glbBody = {
    name: "g",
    type: "GLOBAL",
    target_load_balancer_ids: ["x"],
    glb_settings: { target_protocol: "https", target_port: 443 },
  };
  test.each([
    [
      "an unknown GLB target protocol",
      "PUT",
      "/v2/load_balancers/abc",
      { ...glbBody, glb_settings: { target_protocol: "tcp", target_port: 443 } },
      /allowed values/,
    ],
    ["a region on a GLOBAL load balancer", "PUT", "/v2/load_balancers/abc", { ...glbBody, region: "nyc3" }, /must NOT be valid/],
    ["a misspelt GLB field", "PUT", "/v2/load_balancers/abc", { ...glbBody, target_lb_ids: [] }, /additional properties/],
    [
      "a firewall rule type that does not exist",
      "PUT",
      `/v2/databases/${ids.primary}/firewall`,
      { rules: [{ type: "k8", value: "x" }] },
      /allowed values/,
    ],
    [
      "a pool without a database",
      "POST",
      `/v2/databases/${ids.node}/pools`,
      { name: "p", mode: "transaction", size: 1 },
      /required property 'db'/,
    ],
    [
      "a resize without a node count",
      "PUT",
      `/v2/databases/${ids.node}/resize`,
      { size: "db-s-2vcpu-4gb" },
      /required property 'num_nodes'/,
    ],
    ["a body on promote", "PUT", `/v2/databases/${ids.primary}/replicas/r/promote`, {}, /takes no request body/],
    ["a path the API does not have", "POST", `/v2/databases/${ids.primary}/replicas/r/promote`, undefined, /not an operation/],
  ])("%s", (_what, method, path, body, problem) => {
    expect(validator.validateRequest(method, path, body).join("\n")).toMatch(problem);
  });
  test("and accepts the driver's own bodies (the failover test above sent them)", () => {
    expect(validator.validateRequest("PUT", "/v2/load_balancers/abc", glbBody)).toEqual([]);
  });
});
