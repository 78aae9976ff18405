import { buildStack, editProps, messagesOf, namesOf, violationsOf } from "./fixtures";

const n = namesOf("prod");
const POLICY = "doks-high-availability";

describe("rule 4: DOKS control plane, node floor, surge upgrades", () => {
  it("accepts the production cluster (ha, minNodes 3, surge upgrades)", async () => {
    expect(await violationsOf(buildStack(), POLICY)).toEqual([]);
  });

  it("rejects a cluster without an HA control plane", async () => {
    const violations = await violationsOf(buildStack({ doksHa: false }), POLICY);
    expect(violations).toEqual([expect.objectContaining({ resource: n.doks, level: "mandatory" })]);
    expect(violations[0].message).toContain(`KubernetesCluster "${n.doks}": ha is false; required true.`);
  });

  it("treats an unset ha as DigitalOcean's default (false)", async () => {
    const plan = editProps(buildStack(), n.doks, (props) => delete props.ha);
    expect(messagesOf(await violationsOf(plan, POLICY))).toEqual([expect.stringContaining("ha is unset (DigitalOcean defaults to false)")]);
  });

  it("rejects an autoscaling pool whose floor is below 3", async () => {
    expect(messagesOf(await violationsOf(buildStack({ minNodes: 1 }), POLICY))).toEqual([
      expect.stringContaining("nodePool.minNodes is 1; required at least 3"),
    ]);
  });

  it("reads the fixed nodeCount of a pool that does not autoscale", async () => {
    const fixed = (nodeCount: number) =>
      editProps(buildStack(), n.doks, (props) => (props.nodePool = { name: "pool", size: "s-4vcpu-8gb", autoScale: false, nodeCount }));
    expect(messagesOf(await violationsOf(fixed(2), POLICY))).toEqual([
      expect.stringContaining("nodePool.nodeCount is 2; required at least 3"),
    ]);
    expect(await violationsOf(fixed(3), POLICY)).toEqual([]);
  });

  it("rejects a cluster without surge upgrades", async () => {
    expect(messagesOf(await violationsOf(buildStack({ surgeUpgrade: false }), POLICY))).toEqual([
      expect.stringContaining("surgeUpgrade is false; required true"),
    ]);
  });
});
