import { runPolicies } from "../../preview/runner";
import { haScorecard } from "../../policies/rules/scorecard";
import { PROD, buildStack, editProps, namesOf, violationsOf, without, type StackKnobs } from "./fixtures";

const n = namesOf("prod");
const POLICY = "no-single-point-of-failure";

describe("HA scorecard", () => {
  it("lists every tier of the production stack, none a single point of failure", () => {
    expect(haScorecard(buildStack()).map(({ tier, redundancy, spof }) => ({ tier, redundancy, spof }))).toEqual([
      { tier: "load balancer", redundancy: "managed REGIONAL load balancer, 2 size units (redundant at DigitalOcean)", spof: false },
      { tier: "app", redundancy: "3 replicas (one per node)", spof: false },
      { tier: "Kubernetes control plane", redundancy: "HA control plane (replicated by DigitalOcean)", spof: false },
      { tier: "Kubernetes nodes", redundancy: "3–6 nodes (autoscaling)", spof: false },
      { tier: "PostgreSQL", redundancy: "2 nodes (primary + standby) + 1 read replica", spof: false },
      { tier: "Valkey", redundancy: "2 nodes (primary + standby)", spof: false },
      { tier: "LiveKit", redundancy: "2 deployments (nyc, ams) with token failover", spof: false },
      // The whole stack in one region: a single point of failure for region loss, reported, accepted by default.
      { tier: "region", redundancy: "1 DigitalOcean region (nyc3)", spof: true },
    ]);
    expect(haScorecard(buildStack()).find((row) => row.tier === "region")!.accepted).toMatch(
      /^a regional outage takes the whole stack down\. Removing it takes a second stack in another region/,
    );
  });

  it("the region: accepted at minRegions 1, a violation at 2, redundant when the stack spans two regions", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([]);
    const strict = await runPolicies(buildStack(), { [POLICY]: { minRegions: 2 } });
    expect(strict.violations).toEqual([
      expect.objectContaining({
        policy: POLICY,
        level: "mandatory",
        message: expect.stringContaining(
          'Tier "region" is a single point of failure (1 DigitalOcean region (nyc3)). Stack: DigitalOcean regions is "nyc3"; required at least 2.',
        ),
      }),
    ]);
    const twoRegions = editProps(buildStack(), n.replica, (props) => (props.region = "ams3"));
    expect(haScorecard(twoRegions).find((row) => row.tier === "region")).toEqual({
      tier: "region",
      redundancy: "2 DigitalOcean regions (ams3, nyc3)",
      spof: false,
    });
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
    const rows = haScorecard(buildStack(knobs));
    expect(rows.filter((row) => row.spof && !row.accepted)).toEqual([
      expect.objectContaining({ tier, spof: true, resource, reason: expect.stringContaining(reason) }),
    ]);
  });

  it("flags a stack without a load balancer", () => {
    const plan = editProps(buildStack(), n.service, (props) => (props.spec.type = "ClusterIP"));
    expect(haScorecard(plan).filter((row) => row.spof && !row.accepted)).toEqual([
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
      haScorecard(buildStack(), { minAppReplicas: 4 })
        .filter((row) => row.spof && !row.accepted)
        .map((row) => row.tier),
    ).toEqual(["app"]);
  });
});

describe("rule 10: no single point of failure", () => {
  it("accepts the production stack", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([]);
  });

  it("reports one mandatory violation per single-point-of-failure tier, on the tier's resource", async () => {
    const plan = buildStack({ ...PROD, postgresNodeCount: 1, valkeyNodeCount: 1, appReplicas: 1, minNodes: 1 });
    const violations = await violationsOf(plan, POLICY);
    expect(violations.map((v) => [v.resource, v.level])).toEqual([
      [n.deployment, "mandatory"],
      [n.doks, "mandatory"],
      [n.postgres, "mandatory"],
      [n.valkey, "mandatory"],
    ]);
    expect(violations[2].message).toBe(
      `Tier "PostgreSQL" is a single point of failure (1 node (primary only) + 1 read replica). DatabaseCluster "${n.postgres}": nodeCount is 1; required at least 2 (primary + standby).`,
    );
  });

  it("reports the scorecard with the thresholds the policy config sets", async () => {
    const run = await runPolicies(buildStack(), { [POLICY]: { minAppReplicas: 4 } });
    expect(run.scorecard.find((row) => row.tier === "app")).toEqual(expect.objectContaining({ spof: true }));
    expect(run.violations).toEqual([expect.objectContaining({ policy: POLICY, resource: n.deployment })]);
  });
});
