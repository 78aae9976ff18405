import * as digitalocean from "@pulumi/digitalocean";
import * as k8s from "@pulumi/kubernetes";
import {
  validateResourceOfType,
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
} from "@pulumi/policy";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { secretPathsOf } from "../../policies/rules/offline-context";
import { policies as packPolicies } from "../../policies/policies";
import { PolicyConfigError } from "../../preview/policy-config";
import { runPolicies } from "../../preview/runner";
import { TYPES, buildStack, editProps, namesOf, resourceNamed, TWO_REGIONS } from "./fixtures";

const n = namesOf("prod");

/** A resource policy that reports once on the PostgreSQL cluster. */
function reportsOnPostgres(name: string, enforcementLevel?: ResourceValidationPolicy["enforcementLevel"]): ResourceValidationPolicy {
  return {
    name,
    description: `${name} description`,
    enforcementLevel,
    validateResource: (args, reportViolation) => {
      if (args.name === n.postgres) reportViolation(`${name} found`);
    },
  };
}

describe("offline policy runner", () => {
  it("passes the production plan through the whole pack with no violation", async () => {
    const run = await runPolicies(buildStack(TWO_REGIONS));
    expect(run.violations).toEqual([]);
    // seven tiers, those in both regions once per region (load balancer, control plane, nodes, Valkey), and the region
    expect(run.scorecard).toHaveLength(12);
  });

  describe("how policies are called", () => {
    it("hands resource policies the engine's args: props, options, type helpers that work with provider classes", async () => {
      const seen: ResourceValidationArgs[] = [];
      const spy: ResourceValidationPolicy = {
        name: "spy",
        description: "records its args",
        validateResource: validateResourceOfType(k8s.core.v1.Secret, (_secret, args) => {
          seen.push(args);
        }),
      };
      await runPolicies(buildStack(), {}, [spy]);
      expect(seen).toHaveLength(1);
      const [args] = seen;
      const secret = resourceNamed(buildStack(), n.secret);
      expect(args).toEqual(
        expect.objectContaining({ type: TYPES.secret, name: n.secret, urn: secret.urn, props: secret.props, stackTags: expect.any(Map) }),
      );
      expect(args.opts).toEqual({
        protect: false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: ["data", "stringData"],
        parent: secret.parent,
      });
      expect(args.isType(k8s.core.v1.Secret)).toBe(true);
      expect(args.isType(digitalocean.DatabaseCluster)).toBe(false);
      expect(args.asType(k8s.core.v1.Secret)).toBe(args.props);
      expect(args.asType(digitalocean.DatabaseCluster)).toBeUndefined();
      expect(secretPathsOf(args)).toEqual(secret.secretPaths);
    });

    it("calls a typed validation only for its type, and never for component resources", async () => {
      const engines: string[] = [];
      const names: string[] = [];
      const typed: ResourceValidationPolicy = {
        name: "typed",
        description: "d",
        validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster) => {
          engines.push(cluster.engine);
        }),
      };
      const untyped: ResourceValidationPolicy = {
        name: "untyped",
        description: "d",
        validateResource: (args) => void names.push(args.name),
      };
      await runPolicies(buildStack(), {}, [typed, untyped]);
      expect(engines).toEqual(["pg", "valkey"]);
      expect(names).not.toContain("postgres");
      expect(names).toContain(n.postgres);
    });

    it("hands stack policies every resource with parent and dependencies resolved to resource objects", async () => {
      let resources: PolicyResource[] = [];
      const spy: StackValidationPolicy = { name: "spy", description: "d", validateStack: (args) => void (resources = args.resources) };
      await runPolicies(buildStack(), {}, [spy]);
      const byName = (name: string) => resources.find((r) => r.name === name)!;
      const replica = byName(n.replica);
      expect(replica.dependencies).toContain(byName(n.postgres));
      expect(replica.dependencies).toContain(byName(n.vpc));
      expect(replica.parent).toBe(byName("postgres"));
      expect(replica.propertyDependencies).toEqual({});
      expect(byName(n.postgres).opts.protect).toBe(true);
      expect(resources.filter((r) => r.asType(digitalocean.DatabaseCluster) !== undefined).map((r) => r.name)).toEqual([
        n.postgres,
        n.valkey,
      ]);
    });

    it("gives each call a private copy of the props: a policy cannot change the plan or what others see", async () => {
      const plan = buildStack();
      const before = structuredClone(plan);
      const mutator: ResourceValidationPolicy = {
        name: "mutator",
        description: "d",
        validateResource: (args) => {
          args.props.nodeCount = 99;
          if (Array.isArray(args.props.tags)) args.props.tags.push("mutated");
          args.opts.protect = false;
          args.opts.additionalSecretOutputs.push("mutated");
        },
      };
      const stackMutator: StackValidationPolicy = {
        name: "stack-mutator",
        description: "d",
        validateStack: (args) => {
          for (const r of args.resources) {
            r.props.mutated = true;
            r.dependencies.length = 0;
          }
        },
      };
      const observer: ResourceValidationPolicy = {
        name: "observer",
        description: "d",
        validateResource: (args, reportViolation) => {
          if (args.name === n.postgres) reportViolation(`${args.props.nodeCount} ${JSON.stringify(args.props.tags)} ${args.opts.protect}`);
        },
      };
      const stackObserver: StackValidationPolicy = {
        name: "stack-observer",
        description: "d",
        validateStack: (args, reportViolation) => {
          const replica = args.resources.find((r) => r.name === n.replica)!;
          reportViolation(`${replica.props.mutated} ${replica.dependencies.length}`);
        },
      };
      const run = await runPolicies(plan, {}, [mutator, stackMutator, observer, stackObserver]);
      expect(plan).toEqual(before);
      expect(run.violations.map((v) => v.message)).toEqual(['2 ["gomeet-prod"] true', "undefined 2"]);
    });

    it("names the resource of a stack violation by its URN, and none for a stack-wide one", async () => {
      const reporter: StackValidationPolicy = {
        name: "reporter",
        description: "d",
        validateStack: (args, reportViolation) => {
          reportViolation("on the cluster", args.resources.find((r) => r.name === n.postgres)!.urn);
          reportViolation("stack-wide");
        },
      };
      expect((await runPolicies(buildStack(), {}, [reporter])).violations).toEqual([
        { policy: "reporter", level: "mandatory", resource: n.postgres, message: "on the cluster" },
        { policy: "reporter", level: "mandatory", message: "stack-wide" },
      ]);
    });

    it("reports a read of a preview-unknown value as advisory 'can't run', like the engine", async () => {
      const plan = editProps(buildStack(), n.postgres, (props) => (props.size = unknownValue));
      const reader: ResourceValidationPolicy = {
        name: "reader",
        description: "d",
        validateResource: validateResourceOfType(digitalocean.DatabaseCluster, (cluster) => void cluster.size.length),
      };
      expect((await runPolicies(plan, {}, [reader])).violations).toEqual([
        {
          policy: "reader",
          level: "advisory",
          resource: n.postgres,
          message:
            "can't run policy 'reader' from policy pack 'gomeet-ha@v1.0.0' during preview: string value at .size can't be known during preview",
        },
      ]);
    });

    it("skips a policy that declares itself not applicable", async () => {
      const picky: ResourceValidationPolicy = { name: "picky", description: "d", validateResource: (args) => args.notApplicable("never") };
      expect((await runPolicies(buildStack(), {}, [picky])).violations).toEqual([]);
    });

    it("fails loudly, naming the policy and resource, when a policy throws", async () => {
      const broken: ResourceValidationPolicy = {
        name: "broken",
        description: "d",
        validateResource: validateResourceOfType(digitalocean.Vpc, () => {
          throw new Error("boom");
        }),
      };
      await expect(runPolicies(buildStack(), {}, [broken])).rejects.toThrow(
        `policy "broken" failed on resource "${n.vpc}" (${TYPES.vpc}): boom`,
      );
    });

    it("rejects a plan with two resources under one URN", async () => {
      const plan = buildStack();
      await expect(runPolicies([...plan, plan[1]], {}, [])).rejects.toThrow(`two planned resources share the URN ${plan[1].urn}`);
    });
  });

  describe("enforcement levels", () => {
    it("takes the config's level over the policy's over the pack's (mandatory)", async () => {
      const disabled = jest.fn();
      const policies = [
        reportsOnPostgres("pack-default"),
        reportsOnPostgres("policy-advisory", "advisory"),
        reportsOnPostgres("config-mandatory", "advisory"),
        reportsOnPostgres("config-advisory"),
        reportsOnPostgres("remediate", "remediate"),
        { name: "config-disabled", description: "d", validateResource: disabled },
      ];
      const run = await runPolicies(
        buildStack(),
        {
          "config-mandatory": { enforcementLevel: "mandatory" },
          "config-advisory": { enforcementLevel: "advisory" },
          "config-disabled": { enforcementLevel: "disabled" },
        },
        policies,
      );
      expect(run.violations.map((v) => [v.policy, v.level])).toEqual([
        ["pack-default", "mandatory"],
        ["policy-advisory", "advisory"],
        ["config-mandatory", "mandatory"],
        ["config-advisory", "advisory"],
        ["remediate", "mandatory"],
      ]);
      expect(disabled).not.toHaveBeenCalled();
    });

    it("disables a pack policy through config", async () => {
      const run = await runPolicies(buildStack({ ...TWO_REGIONS, postgresNodeCount: 1 }), {
        "postgres-standby": { enforcementLevel: "disabled" },
      });
      expect(run.violations.map((v) => v.policy)).toEqual(["no-single-point-of-failure"]);
    });
  });

  describe("policy configuration", () => {
    const configurable: ResourceValidationPolicy = {
      name: "configurable",
      description: "d",
      configSchema: {
        properties: {
          limit: { type: "integer", minimum: 1, default: 2 },
          names: { type: "array", items: { type: "string" }, default: ["a"] },
        },
      },
      validateResource: (args, reportViolation) => {
        if (args.name === n.postgres) reportViolation(JSON.stringify(args.getConfig()));
      },
    };

    it("hands getConfig the schema defaults merged with the configured values", async () => {
      expect((await runPolicies(buildStack(), {}, [configurable])).violations[0].message).toBe('{"limit":2,"names":["a"]}');
      expect((await runPolicies(buildStack(), { configurable: { limit: 5 } }, [configurable])).violations[0].message).toBe(
        '{"limit":5,"names":["a"]}',
      );
    });

    it.each([
      [{ "postgres-standby": { minNodeCount: "two" } }, 'policy "postgres-standby": minNodeCount is "two"'],
      [{ "postgres-standby": { minNodeCount: 0 } }, 'policy "postgres-standby": minNodeCount is 0'],
      [{ "postgres-standby": { minNodes: 1 } }, 'policy "postgres-standby": minNodes is 1'],
      [{ "deployment-resources": { requiredLimits: "memory" } }, 'policy "deployment-resources": requiredLimits is "memory"'],
      [{ "postgres-standbyy": { minNodeCount: 1 } }, '"postgres-standbyy" is not a policy of this pack'],
      [{ "postgres-standby": { enforcementLevel: "sometimes" } }, 'policy "postgres-standby": enforcementLevel is "sometimes"'],
    ])("rejects a bad config %j, naming the policy and key", async (config, expected) => {
      const run = runPolicies(buildStack(), config as never);
      await expect(run).rejects.toThrow(PolicyConfigError);
      await expect(runPolicies(buildStack(), config as never)).rejects.toThrow(expected);
    });

    it("declares every pack threshold in its policy's configSchema with a production default", () => {
      for (const policy of packPolicies) {
        for (const [key, schema] of Object.entries(policy.configSchema?.properties ?? {})) {
          expect([policy.name, key, schema.default !== undefined, typeof schema.description]).toEqual([policy.name, key, true, "string"]);
        }
      }
    });
  });
});
