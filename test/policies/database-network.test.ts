import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { buildStack, editProps, editResource, messagesOf, namesOf, violationsOf, without } from "./fixtures";

const n = namesOf("prod");
const POLICIES = [
  "database-private-network",
  "database-deletion-protection",
  "database-firewall-required",
  "database-firewall-no-public-access",
  "database-firewall-ip-rules",
];

describe("rule 3: databases private, firewalled, protected", () => {
  it.each(POLICIES)("accepts the production stack: %s", async (policy) => {
    expect(await violationsOf(buildStack(), policy)).toEqual([]);
  });

  it("rejects a cluster or a replica off the private network", async () => {
    let plan = editProps(buildStack(), n.valkey, (props) => delete props.privateNetworkUuid);
    plan = editProps(plan, n.replica, (props) => (props.privateNetworkUuid = ""));
    const violations = await violationsOf(plan, "database-private-network");
    expect(violations.map((v) => v.resource).sort()).toEqual([n.replica, n.valkey].sort());
    expect(messagesOf(violations)).toContainEqual(
      expect.stringContaining(`DatabaseCluster "${n.valkey}": privateNetworkUuid is unset; required the ID of the stack's VPC`),
    );
  });

  it("counts a VPC ID that is unknown during a preview as set", async () => {
    const plan = editProps(buildStack(), n.postgres, (props) => (props.privateNetworkUuid = unknownValue));
    expect(await violationsOf(plan, "database-private-network")).toEqual([]);
  });

  it("rejects a database cluster without the protect option", async () => {
    const plan = editResource(buildStack(), n.postgres, (r) => (r.protect = false));
    const violations = await violationsOf(plan, "database-deletion-protection");
    expect(violations).toEqual([expect.objectContaining({ resource: n.postgres, level: "mandatory" })]);
    expect(violations[0].message).toContain("resource option protect is false; required true");
  });

  it("rejects a read replica without its own DatabaseFirewall (the primary's does not cover it)", async () => {
    const plan = without(buildStack(), (r) => r.name === n.replicaFirewall);
    const violations = await violationsOf(plan, "database-firewall-required");
    expect(violations).toEqual([expect.objectContaining({ resource: n.replica, level: "mandatory" })]);
    expect(violations[0]!.message).toContain(
      `DatabaseReplica "${n.replica}": firewall (a DatabaseFirewall depending on the replica) is none`,
    );
  });

  it("rejects a cluster that no DatabaseFirewall depends on", async () => {
    const plan = without(buildStack(), (r) => r.name === n.valkeyFirewall);
    const violations = await violationsOf(plan, "database-firewall-required");
    expect(violations).toEqual([expect.objectContaining({ resource: n.valkey })]);
    expect(violations[0].message).toContain("is none; required one DatabaseFirewall");
  });

  it.each(["0.0.0.0/0", "::/0"])("rejects a firewall rule opening %s", async (range) => {
    const plan = editProps(buildStack(), n.postgresFirewall, (props) => props.rules.push({ type: "ip_addr", value: range }));
    const violations = await violationsOf(plan, "database-firewall-no-public-access");
    expect(violations).toEqual([expect.objectContaining({ resource: n.postgresFirewall, level: "mandatory" })]);
    expect(violations[0].message).toContain(`rules[1] (ip_addr) is "${range}"`);
    expect(await violationsOf(plan, "database-firewall-ip-rules")).toEqual([]);
  });

  it("rejects a firewall with no rules (DigitalOcean then admits any source)", async () => {
    const plan = editProps(buildStack(), n.postgresFirewall, (props) => (props.rules = []));
    expect(messagesOf(await violationsOf(plan, "database-firewall-no-public-access"))).toEqual([
      expect.stringContaining("rules is []; required at least one trusted source"),
    ]);
  });

  it("flags any other IP-range rule as advisory only", async () => {
    const plan = editProps(buildStack(), n.valkeyFirewall, (props) => props.rules.push({ type: "ip_addr", value: "203.0.113.0/24" }));
    expect(await violationsOf(plan, "database-firewall-no-public-access")).toEqual([]);
    const advisory = await violationsOf(plan, "database-firewall-ip-rules");
    expect(advisory).toEqual([expect.objectContaining({ level: "advisory", resource: n.valkeyFirewall })]);
    expect(advisory[0].message).toContain('rules[1] (ip_addr) is "203.0.113.0/24"');
  });
});
