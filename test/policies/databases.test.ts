import { buildStack, editProps, editResource, messagesOf, namesOf, violationsOf } from "./fixtures";

const n = namesOf("prod");

describe("rule 1: PostgreSQL standby and read replica", () => {
  it("accepts the production stack (2 nodes, 1 read replica)", async () => {
    expect(await violationsOf(buildStack(), "postgres-standby")).toEqual([]);
    expect(await violationsOf(buildStack(), "postgres-read-replica")).toEqual([]);
  });

  it("rejects a PostgreSQL cluster without a standby, naming cluster, property, found and required", async () => {
    const violations = await violationsOf(buildStack({ postgresNodeCount: 1 }), "postgres-standby");
    expect(violations).toEqual([expect.objectContaining({ policy: "postgres-standby", level: "mandatory", resource: n.postgres })]);
    expect(violations[0].message).toContain(`DatabaseCluster "${n.postgres}": nodeCount is 1; required at least 2.`);
  });

  it("treats an unset nodeCount as DigitalOcean's default of one node", async () => {
    const plan = editProps(buildStack(), n.postgres, (props) => delete props.nodeCount);
    expect(messagesOf(await violationsOf(plan, "postgres-standby"))).toEqual([
      expect.stringContaining("nodeCount is unset (DigitalOcean defaults to 1); required at least 2"),
    ]);
  });

  it("requires a read replica of each PostgreSQL cluster", async () => {
    const violations = await violationsOf(buildStack({ readReplicas: 0 }), "postgres-read-replica");
    expect(violations).toEqual([expect.objectContaining({ level: "mandatory", resource: n.postgres })]);
    expect(violations[0].message).toContain("is 0; required at least 1");
  });

  it("does not count a replica in another region (the standby region's database) as the cluster's read replica", async () => {
    const plan = editProps(buildStack(), n.replica, (props) => (props.region = "tor1"));
    expect(messagesOf(await violationsOf(plan, "postgres-read-replica"))).toEqual([expect.stringContaining("is 0; required at least 1")]);
  });

  it("relates a replica to its cluster through dependencies, not IDs", async () => {
    const plan = editResource(buildStack(), n.replica, (replica) => {
      replica.dependencies = replica.dependencies.filter((urn) => !urn.endsWith(`::${n.postgres}`));
    });
    expect(await violationsOf(plan, "postgres-read-replica")).toHaveLength(1);
  });
});

describe("rule 2: Valkey standby, engine and eviction policy", () => {
  it("accepts the production Valkey cluster", async () => {
    for (const policy of ["valkey-high-availability", "valkey-engine", "valkey-eviction-policy"]) {
      expect(await violationsOf(buildStack(), policy)).toEqual([]);
    }
  });

  it("rejects a single-node Valkey cluster", async () => {
    const violations = await violationsOf(buildStack({ valkeyNodeCount: 1 }), "valkey-high-availability");
    expect(violations).toEqual([expect.objectContaining({ resource: n.valkey, level: "mandatory" })]);
    expect(violations[0].message).toContain(`DatabaseCluster "${n.valkey}": nodeCount is 1; required at least 2.`);
  });

  it("rejects the discontinued redis engine (and still holds it to the HA floor)", async () => {
    const plan = buildStack({ valkeyEngine: "redis", valkeyNodeCount: 1 });
    expect(messagesOf(await violationsOf(plan, "valkey-engine"))).toEqual([
      expect.stringContaining('engine is "redis"; required "valkey"'),
    ]);
    expect(await violationsOf(plan, "valkey-high-availability")).toHaveLength(1);
  });

  it.each(["noeviction", "volatile_lru", "volatile_ttl"])("accepts eviction policy %s", async (evictionPolicy) => {
    expect(await violationsOf(buildStack({ evictionPolicy }), "valkey-eviction-policy")).toEqual([]);
  });

  it("rejects an eviction policy that evicts keys without a TTL", async () => {
    const violations = await violationsOf(buildStack({ evictionPolicy: "allkeys_lru" }), "valkey-eviction-policy");
    expect(violations).toEqual([expect.objectContaining({ resource: n.valkey })]);
    expect(violations[0].message).toContain('evictionPolicy is "allkeys_lru"; required "noeviction" or a volatile_* policy');
  });

  it("rejects an unset eviction policy", async () => {
    const plan = editProps(buildStack(), n.valkey, (props) => delete props.evictionPolicy);
    expect(messagesOf(await violationsOf(plan, "valkey-eviction-policy"))).toEqual([expect.stringContaining("evictionPolicy is unset")]);
  });
});
