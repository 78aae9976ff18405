/**
 * After a region failover the stack is brought to the new reality with `gomeet:standby.promoted` (docs/runbooks.md,
 * "Reconcile the stack after a region failover"): the offline diff of prod against prod-with-promoted shows the
 * promoted node adopted as the primary cluster (import, no create, no replacement, no data loss), the cross-region
 * replica only forgotten (retainOnDelete), the old region rebuilt as the standby, and the GLB's priorities swapped.
 */
import { formatDiff } from "../../preview/diff-format";
import type { Side } from "../../preview/sides";
import { runPreview, temporaryStack } from "./plan-helpers";

const PROMOTED_ID = "0b6f7d7e-3c1a-4f4e-9a57-2f1c5e9b8a11";
const NODE = "gomeet-{stack}-pg-tor1";

let variant: { stack: string; remove(): void };
beforeAll(() => {
  variant = temporaryStack("prod", (c) => (c["gomeet:standby"].promoted = { postgresClusterId: PROMOTED_ID }));
});
afterAll(() => variant.remove());

test("the promoted node is adopted as the primary cluster: imported, never created, replaced or lost", () => {
  const r = runPreview(["--stack", variant.stack, "--against-stack", "prod", "--json"]);
  expect(r.status).toBe(0);
  const doc = JSON.parse(r.stdout);
  const of = (type: string, name: string) => doc.changes.filter((c: { type: string; name: string }) => c.type === type && c.name === name);
  const cluster = "digitalocean:index/databaseCluster:DatabaseCluster";
  const replica = "digitalocean:index/databaseReplica:DatabaseReplica";

  // The node: its replica record is forgotten (the cloud resource stays), the cluster record adopts it by id.
  expect(of(replica, NODE)).toEqual([expect.objectContaining({ op: "delete", retained: true, dataLossRisk: false })]);
  expect(of(cluster, NODE)).toEqual([expect.objectContaining({ op: "create", imported: PROMOTED_ID, dataLossRisk: false })]);
  // Its database, user and pool are adopted too (import ids `<cluster id>,<name>`).
  for (const [type, name, id] of [
    ["digitalocean:index/databaseDb:DatabaseDb", `${NODE}-db`, `${PROMOTED_ID},gomeet`],
    ["digitalocean:index/databaseUser:DatabaseUser", `${NODE}-user`, `${PROMOTED_ID},gomeet`],
    ["digitalocean:index/databaseConnectionPool:DatabaseConnectionPool", `${NODE}-pool`, `${PROMOTED_ID},gomeet-pool`],
  ]) {
    expect(of(type!, name!)).toEqual([expect.objectContaining({ op: "create", imported: id })]);
  }
  // Nothing that holds data is replaced, and the only database at risk is the lost primary, protected.
  expect(doc.changes.filter((c: { op: string; type: string }) => c.op === "replace" && c.type === cluster)).toEqual([]);
  expect(doc.changes.filter((c: { dataLossRisk: boolean }) => c.dataLossRisk).map((c: { name: string }) => c.name)).toEqual([
    "gomeet-{stack}-pg",
  ]);
  expect(of(cluster, "gomeet-{stack}-pg")).toEqual([expect.objectContaining({ op: "delete", protected: true })]);
  // The old region becomes the standby: a read-only node of the new primary, in nyc3, with its own firewall.
  expect(of(replica, "gomeet-{stack}-pg-nyc3")).toEqual([expect.objectContaining({ op: "create" })]);
  expect(of("digitalocean:index/databaseFirewall:DatabaseFirewall", "gomeet-{stack}-pg-nyc3-firewall")).toEqual([
    expect.objectContaining({ op: "create" }),
  ]);
  // The GLB prefers tor1 now; the VPCs and clusters of both regions stay as they are.
  expect(of("digitalocean:index/loadBalancer:LoadBalancer", "gomeet-{stack}-glb")).toEqual([
    expect.objectContaining({
      op: "update",
      diffs: expect.arrayContaining([
        { path: "glbSettings.regionPriorities.nyc3", old: 1, new: 2 },
        { path: "glbSettings.regionPriorities.tor1", old: 2, new: 1 },
      ]),
    }),
  ]);
  for (const name of [
    "gomeet-{stack}-vpc",
    "gomeet-{stack}-tor1-vpc",
    "gomeet-{stack}-doks",
    "gomeet-{stack}-tor1-doks",
    "gomeet-{stack}-valkey",
    "gomeet-{stack}-tor1-valkey",
  ]) {
    expect(doc.changes.filter((c: { name: string; op: string }) => c.name === name && c.op !== "update")).toEqual([]);
  }

  // The readable form of the same diff (one more render would double the test's time).
  const side = (s: { label: string; stack: string }) => ({ ...s, doc: { policies: { violations: [] } } }) as unknown as Side;
  const text = formatDiff(side(doc.base), side(doc.head), { changes: doc.changes, policies: doc.policies });
  expect(text).toContain(`${NODE}  [import ${PROMOTED_ID}: adopted, nothing created]`);
  expect(text).toContain(`${NODE}  [retained: removed from the state only, the cloud resource stays]`);
});
