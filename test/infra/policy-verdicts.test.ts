/**
 * The policy pack through `npm run preview`: prod passes, staging passes with its relaxed policy config, and
 * a prod config that brings a single point of failure back exits 1 naming the rule.
 */
import { runPreview, temporaryStack } from "./plan-helpers";

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

test("staging passes with policies/config/staging.json (its single nodes are advisory findings only)", () => {
  const r = runPreview(["--stack", "staging", "--json"]);
  expect(r.status).toBe(0);
  const { violations } = JSON.parse(r.stdout).policies;
  expect(violations.filter((v: { level: string }) => v.level === "mandatory")).toEqual([]);
});

test.each([
  [
    "postgres nodeCount 1",
    (c: any) => (c["gomeet:postgres"].nodeCount = 1),
    "postgres-standby",
    "PostgreSQL",
    /DatabaseCluster "gomeet-.*-pg": nodeCount is 1; required at least 2/,
  ],
  [
    "postgres without read replicas",
    (c: any) => (c["gomeet:postgres"].readReplicas = 0),
    "postgres-read-replica",
    undefined,
    /read replicas .* is 0; required at least 1/,
  ],
  [
    "valkey nodeCount 1",
    (c: any) => (c["gomeet:valkey"].nodeCount = 1),
    "valkey-high-availability",
    "Valkey",
    /nodeCount is 1; required at least 2/,
  ],
  ["app replicas 1", (c: any) => (c["gomeet:app"].replicas = 1), "deployment-replicas", "app", /spec\.replicas is 1; required at least 3/],
  [
    "kubernetes minNodes 1",
    (c: any) => (c["gomeet:kubernetes"].minNodes = 1),
    "doks-high-availability",
    "Kubernetes nodes",
    /nodePool\.minNodes is 1; required at least 3/,
  ],
  [
    "a single LiveKit deployment",
    (c: any) => c["gomeet:livekit"].splice(1),
    "no-single-point-of-failure",
    "LiveKit",
    /livekit-deployments/,
  ],
])("%s exits 1 with the rule's message", (_what, edit, policy, tier, message) => {
  const variant = temporaryStack("prod", edit);
  cleanups.push(variant.remove);
  const r = runPreview(["--stack", variant.stack, "--json"]);
  expect(r.status).toBe(1);
  const doc = JSON.parse(r.stdout);
  expect(doc.policies.violations).toContainEqual(
    expect.objectContaining({ policy, level: "mandatory", message: expect.stringMatching(message) }),
  );
  // With two region cells a tier has a row per resource, labelled "<tier> (<resource>)"; the tier itself alone otherwise.
  const tierLabel = new RegExp(`^${tier}( \\(.+\\))?$`);
  if (tier) expect(doc.policies.scorecard).toContainEqual(expect.objectContaining({ tier: expect.stringMatching(tierLabel), spof: true }));
});
