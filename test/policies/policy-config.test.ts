import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { POLICY_CONFIG_DIR, PolicyConfigError, loadPolicyConfig } from "../../preview/policy-config";
import { runPolicies } from "../../preview/runner";
import { STAGING, buildStack, namesOf } from "./fixtures";

const staging = namesOf("staging");

describe("per-stack policy config files", () => {
  it("has no prod file: prod always runs the pack's production defaults", () => {
    expect(fs.existsSync(path.join(POLICY_CONFIG_DIR, "prod.json"))).toBe(false);
    expect(loadPolicyConfig("prod")).toEqual({});
  });

  it("fails staging on its single nodes without the staging config", async () => {
    const { violations } = await runPolicies(buildStack(STAGING));
    expect([...new Set(violations.filter((v) => v.level === "mandatory").map((v) => v.policy))].sort()).toEqual(
      [
        "deployment-replicas",
        "doks-high-availability",
        "hpa-min-replicas",
        "no-single-point-of-failure",
        "pod-disruption-budget",
        "postgres-read-replica",
        "postgres-standby",
        "valkey-high-availability",
      ].sort(),
    );
  });

  it("passes staging with policies/config/staging.json, keeping its single points of failure as advisory findings", async () => {
    const { violations, scorecard } = await runPolicies(buildStack(STAGING), loadPolicyConfig("staging"));
    expect(violations.filter((v) => v.level === "mandatory")).toEqual([]);
    expect(violations.map((v) => [v.policy, v.level, v.resource])).toEqual([
      ["no-single-point-of-failure", "advisory", staging.postgres],
      ["no-single-point-of-failure", "advisory", staging.valkey],
      ["no-single-point-of-failure", "advisory", staging.deployment],
    ]);
    expect(scorecard.filter((row) => row.spof && !row.accepted).map((row) => row.tier)).toEqual(["PostgreSQL", "Valkey", "LiveKit"]);
    expect(scorecard.find((row) => row.tier === "region")).toMatchObject({ spof: true, accepted: expect.any(String) });
  });

  it("relaxes thresholds only: the staging config disables no policy and lowers no floor below one (but the one it names)", () => {
    // The one floor staging takes to zero, on purpose: it runs no read-only replica (Pulumi.staging.yaml readReplicas: 0).
    const zeroAllowed = new Set(["postgres-read-replica.minReadReplicas"]);
    const floors: string[] = [];
    for (const [policy, entry] of Object.entries(loadPolicyConfig("staging"))) {
      expect([policy, entry.enforcementLevel ?? "default"]).not.toEqual([policy, "disabled"]);
      for (const [key, value] of Object.entries(entry)) {
        if (key === "enforcementLevel") continue;
        const floor = zeroAllowed.has(`${policy}.${key}`) ? 0 : 1;
        expect([policy, key, typeof value === "number" && Number.isInteger(value) && value >= floor]).toEqual([policy, key, true]);
        floors.push(`${policy}.${key}=${String(value)}`);
      }
    }
    expect(floors).toEqual([
      "postgres-standby.minNodeCount=1",
      "postgres-read-replica.minReadReplicas=0",
      "valkey-high-availability.minNodeCount=1",
      "doks-high-availability.minNodes=2",
      "deployment-replicas.minReplicas=2",
      "pod-disruption-budget.minAvailable=1",
      "hpa-min-replicas.minReplicas=2",
      "no-single-point-of-failure.minRegions=1",
    ]);
  });

  it("still holds staging to everything it does not relax", async () => {
    const { violations } = await runPolicies(
      buildStack({ ...STAGING, evictionPolicy: "allkeys_lru", doksHa: false }),
      loadPolicyConfig("staging"),
    );
    expect(violations.filter((v) => v.level === "mandatory").map((v) => v.policy)).toEqual([
      "doks-high-availability",
      "valkey-eviction-policy",
    ]);
  });

  describe("loading", () => {
    let dir: string;
    beforeAll(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "gomeet-policy-config-"));
    });
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const write = (stack: string, text: string) => fs.writeFileSync(path.join(dir, `${stack}.json`), text);

    it("accepts the CLI's shorthand of a bare enforcement level", () => {
      write("shorthand", JSON.stringify({ "deployment-replicas": "advisory", "doks-high-availability": { minNodes: 2 } }));
      expect(loadPolicyConfig("shorthand", dir)).toEqual({
        "deployment-replicas": { enforcementLevel: "advisory" },
        "doks-high-availability": { minNodes: 2 },
      });
    });

    it("names the file for invalid JSON and for a bad level", () => {
      write("broken", "{ not json");
      expect(() => loadPolicyConfig("broken", dir)).toThrow(PolicyConfigError);
      expect(() => loadPolicyConfig("broken", dir)).toThrow(`${path.join(dir, "broken.json")}: not valid JSON`);
      write("level", JSON.stringify({ "deployment-replicas": { enforcementLevel: "sometimes" } }));
      expect(() => loadPolicyConfig("level", dir)).toThrow(`${path.join(dir, "level.json")}: deployment-replicas`);
    });

    it("refuses a stack name that is a path", () => {
      expect(() => loadPolicyConfig("../secrets", dir)).toThrow('stack name "../secrets" is not a plain stack name');
    });
  });
});
