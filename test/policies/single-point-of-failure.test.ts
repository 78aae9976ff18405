import { runPolicies } from "../../preview/runner";
import { haScorecard } from "../../policies/rules/scorecard";
import { PROD, TWO_REGIONS, buildStack, editProps, namesOf, violationsOf, without, type StackKnobs } from "./fixtures";

const n = namesOf("prod");
const POLICY = "no-single-point-of-failure";

/** One region cell (the fixture's knobs): the region row is judged against minRegions 1, as staging does. */
const ONE_CELL = { minRegions: 1 };

describe("HA scorecard", () => {
  it("lists every tier of the production stack (two regions), none a single point of failure", () => {
    const rows = haScorecard(buildStack(TWO_REGIONS)).map(({ tier, redundancy, spof }) => ({ tier, redundancy, spof }));
    expect(rows.filter((row) => row.spof)).toEqual([]);
    expect(rows.map((row) => row.tier)).toEqual([
      `load balancer (${n.service})`,
      "load balancer (gomeet-prod-tor1-service)",
      "app",
      `Kubernetes control plane (${n.doks})`,
      "Kubernetes control plane (gomeet-prod-tor1-doks)",
      `Kubernetes nodes (${n.doks})`,
      "Kubernetes nodes (gomeet-prod-tor1-doks)",
      "PostgreSQL",
      `Valkey (${n.valkey})`,
      "Valkey (gomeet-prod-tor1-valkey)",
      "LiveKit",
      "region",
    ]);
    expect(rows.find((row) => row.tier === "PostgreSQL")!.redundancy).toBe("2 nodes (primary + standby) + 2 read replicas");
    expect(rows.find((row) => row.tier === "region")!.redundancy).toBe(
      "2 DigitalOcean regions (nyc3 primary, tor1 standby) behind a GLB; RTO: manual failover (no controller); RPO: the replication lag at the moment of loss",
    );
  });

  it("lists every tier of one region cell; its region is a single point of failure, accepted at minRegions 1", () => {
    expect(haScorecard(buildStack(), ONE_CELL).map(({ tier, redundancy, spof }) => ({ tier, redundancy, spof }))).toEqual([
      { tier: "load balancer", redundancy: "managed REGIONAL load balancer, 2 size units (redundant at DigitalOcean)", spof: false },
      { tier: "app", redundancy: "3 replicas (one per node)", spof: false },
      { tier: "Kubernetes control plane", redundancy: "HA control plane (replicated by DigitalOcean)", spof: false },
      { tier: "Kubernetes nodes", redundancy: "3–6 nodes (autoscaling)", spof: false },
      { tier: "PostgreSQL", redundancy: "2 nodes (primary + standby) + 1 read replica", spof: false },
      { tier: "Valkey", redundancy: "2 nodes (primary + standby)", spof: false },
      { tier: "LiveKit", redundancy: "2 deployments (nyc, ams) with token failover", spof: false },
      { tier: "region", redundancy: "1 DigitalOcean region (nyc3 primary)", spof: true },
    ]);
    expect(haScorecard(buildStack(), ONE_CELL).find((row) => row.tier === "region")!.accepted).toMatch(
      /^a regional outage takes the whole stack down\. Removing it takes a standby region/,
    );
  });

  it("the region: a violation by default (minRegions 2), accepted at minRegions 1, redundant with a standby region behind a GLB", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([
      expect.objectContaining({
        policy: POLICY,
        level: "mandatory",
        resource: n.vpc,
        message: expect.stringContaining(
          'Tier "region" is a single point of failure (1 DigitalOcean region (nyc3 primary)). Stack: DigitalOcean regions is "nyc3"; required at least 2.',
        ),
      }),
    ]);
    expect((await runPolicies(buildStack(), { [POLICY]: ONE_CELL })).violations).toEqual([]);
    expect(await violationsOf(buildStack(TWO_REGIONS), POLICY)).toEqual([]);
  });

  // What makes a second region a standby: each missing piece is named.
  const standbyGaps: [string, (plan: ReturnType<typeof buildStack>) => ReturnType<typeof buildStack>, string][] = [
    [
      "no read-only node of the primary",
      (p) => without(p, (r) => r.name.startsWith("gomeet-prod-pg-tor1")),
      "tor1: a read-only node of gomeet-prod-pg",
    ],
    [
      "the node without a firewall",
      (p) => without(p, (r) => r.name === "gomeet-prod-pg-tor1-firewall"),
      "tor1: a firewall of its own on the read-only node",
    ],
    ["no Valkey", (p) => without(p, (r) => r.name === "gomeet-prod-tor1-valkey"), "tor1: a Valkey cluster"],
    ["no Kubernetes cluster", (p) => without(p, (r) => r.name === "gomeet-prod-tor1-doks"), "tor1: a Kubernetes cluster"],
    [
      "no GLB",
      (p) => without(p, (r) => r.name === "gomeet-prod-glb"),
      "a Global Load Balancer (LoadBalancer type GLOBAL) over the regions",
    ],
    [
      "a GLB without the standby's priority",
      (p) => editProps(p, "gomeet-prod-glb", (props) => delete props.glbSettings.regionPriorities.tor1),
      "GLB region priorities for tor1",
    ],
    [
      "no app in the standby",
      (p) => without(p, (r) => r.name === "gomeet-prod-tor1-service"),
      "the app behind a load balancer in every region (1 of 2)",
    ],
  ];
  it.each(standbyGaps)("a second region with %s is not a standby: the region stays a single point of failure", (_what, edit, gap) => {
    const row = haScorecard(edit(buildStack(TWO_REGIONS))).find((r) => r.tier === "region")!;
    expect(row).toEqual(expect.objectContaining({ spof: true }));
    expect(row.reason).toContain(gap);
  });

  const degraded: [string, Partial<StackKnobs>, string, string][] = [
    ["app", { appReplicas: 1 }, n.deployment, "spec.replicas is 1; required at least 2"],
    ["Kubernetes control plane", { doksHa: false }, n.doks, "ha is false; required true"],
    ["Kubernetes nodes", { minNodes: 1 }, n.doks, "nodePool.minNodes is 1; required at least 2"],
    ["PostgreSQL", { postgresNodeCount: 1 }, n.postgres, "nodeCount is 1; required at least 2 (primary + standby)"],
    ["Valkey", { valkeyNodeCount: 1 }, n.valkey, "nodeCount is 1; required at least 2 (primary + standby)"],
    ["LiveKit", { livekitDeployments: ["nyc"] }, n.deployment, 'is "nyc"; required at least 2 LiveKit deployments'],
  ];

  it.each(degraded)("flags the %s tier alone when it is degraded", (tier, knobs, resource, reason) => {
    const rows = haScorecard(buildStack(knobs), ONE_CELL);
    expect(rows.filter((row) => row.spof && !row.accepted)).toEqual([
      expect.objectContaining({ tier, spof: true, resource, reason: expect.stringContaining(reason) }),
    ]);
  });

  it("flags a stack without a load balancer", () => {
    const plan = editProps(buildStack(), n.service, (props) => (props.spec.type = "ClusterIP"));
    expect(haScorecard(plan, ONE_CELL).filter((row) => row.spof && !row.accepted)).toEqual([
      expect.objectContaining({ tier: "load balancer", redundancy: "none in this stack", spof: true }),
    ]);
  });

  it("flags a tier missing from the stack instead of passing it", () => {
    const plan = without(buildStack(), (r) => r.name === n.valkey);
    expect(haScorecard(plan).find((row) => row.tier === "Valkey")).toEqual(
      expect.objectContaining({ spof: true, redundancy: "none in this stack" }),
    );
  });

  it("names each resource of a tier that has several", () => {
    const second = buildStack()
      .filter((r) => r.name === n.postgres)
      .map((r) => ({ ...r, name: "reports-pg", urn: `${r.urn}-reports` }));
    const rows = haScorecard([...buildStack(), ...second]).filter((row) => row.tier.startsWith("PostgreSQL"));
    expect(rows.map((row) => row.tier)).toEqual([`PostgreSQL (${n.postgres})`, "PostgreSQL (reports-pg)"]);
    expect(rows[1].redundancy).toBe("2 nodes (primary + standby) + 0 read replicas");
  });

  it("takes thresholds", () => {
    expect(
      haScorecard(buildStack(), { ...ONE_CELL, minAppReplicas: 4 })
        .filter((row) => row.spof && !row.accepted)
        .map((row) => row.tier),
    ).toEqual(["app"]);
  });
});

describe("rule 10: no single point of failure", () => {
  it("accepts the production stack", async () => {
    expect(await violationsOf(buildStack(TWO_REGIONS), POLICY)).toEqual([]);
  });

  it("reports one mandatory violation per single-point-of-failure tier, on the tier's resource", async () => {
    const plan = buildStack({ ...PROD, ...TWO_REGIONS, postgresNodeCount: 1, valkeyNodeCount: 1, appReplicas: 1, minNodes: 1 });
    const violations = await violationsOf(plan, POLICY);
    expect(violations.map((v) => [v.resource, v.level])).toEqual([
      [n.deployment, "mandatory"],
      [n.doks, "mandatory"],
      ["gomeet-prod-tor1-doks", "mandatory"],
      [n.postgres, "mandatory"],
      [n.valkey, "mandatory"],
      ["gomeet-prod-tor1-valkey", "mandatory"],
    ]);
    expect(violations[3].message).toBe(
      `Tier "PostgreSQL" is a single point of failure (1 node (primary only) + 2 read replicas). DatabaseCluster "${n.postgres}": nodeCount is 1; required at least 2 (primary + standby).`,
    );
  });

  it("reports the scorecard with the thresholds the policy config sets", async () => {
    const run = await runPolicies(buildStack(TWO_REGIONS), { [POLICY]: { minAppReplicas: 4 } });
    expect(run.scorecard.find((row) => row.tier === "app")).toEqual(expect.objectContaining({ spof: true }));
    expect(run.violations).toEqual([expect.objectContaining({ policy: POLICY, resource: n.deployment })]);
  });
});
