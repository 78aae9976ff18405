/**
 * The offline runner against the policy SDK's own analyzer: the same plan goes through the RPC handlers
 * the Pulumi CLI calls (`analyze` per resource, `analyzeStack` once; real protobuf requests, the SDK's
 * deserialization and unknown-value proxy) and through `runPolicies`; the verdicts must be identical.
 * The handlers are called in-process: no PolicyPack is constructed and no server is started.
 */
import * as path from "node:path";
import type { Struct as StructType } from "google-protobuf/google/protobuf/struct_pb";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import * as analyzer from "@pulumi/pulumi/proto/analyzer_pb";
import type { Policies } from "@pulumi/policy";
import type { PlannedResource, Violation } from "../../preview/plan";
import { packEnforcementLevel, packName, policies } from "../../policies/policies";
import { runPolicies } from "../../preview/runner";
import { buildStack, editProps, editResource, namesOf, TWO_REGIONS } from "./fixtures";

/** The protobuf Struct class of the copy of google-protobuf that @pulumi/pulumi's generated code uses. */
const { Struct } = require(
  require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [path.dirname(require.resolve("@pulumi/pulumi/package.json"))] }),
) as { Struct: typeof StructType };

type Handler = (call: { request: unknown }, callback: (error: unknown, response?: analyzer.AnalyzeResponse) => void) => Promise<void>;
/** The SDK's analyzer handlers (exported at runtime, left out of its typings). */
const server = require("@pulumi/policy/server") as {
  makeAnalyzeRpcFun(name: string, version: string, level: string, policies: Policies): Handler;
  makeAnalyzeStackRpcFun(name: string, version: string, level: string, policies: Policies): Handler;
};

function optionsOf(resource: PlannedResource): analyzer.AnalyzerResourceOptions {
  const options = new analyzer.AnalyzerResourceOptions();
  options.setProtect(resource.protect);
  options.setAdditionalsecretoutputsList(resource.additionalSecretOutputs);
  if (resource.parent) options.setParent(resource.parent);
  return options;
}

/** The fields `AnalyzeRequest` and `AnalyzerResource` share. */
interface ResourceMessage {
  setType(value: string): unknown;
  setName(value: string): unknown;
  setUrn(value: string): unknown;
  setProperties(value: StructType): unknown;
  setOptions(value: analyzer.AnalyzerResourceOptions): unknown;
}

/** Fills a request with a planned resource the way the engine serializes it. */
function withResource<T extends ResourceMessage>(message: T, resource: PlannedResource): T {
  message.setType(resource.type);
  message.setName(resource.name);
  message.setUrn(resource.urn);
  message.setProperties(Struct.fromJavaScript(resource.props as never));
  message.setOptions(optionsOf(resource));
  return message;
}

function invoke(handler: Handler, request: unknown): Promise<analyzer.AnalyzeResponse> {
  return new Promise((resolve, reject) => {
    void handler({ request }, (error, response) => (error ? reject(error) : resolve(response!)));
  });
}

const LEVELS: Record<number, string> = {
  [analyzer.EnforcementLevel.ADVISORY]: "advisory",
  [analyzer.EnforcementLevel.MANDATORY]: "mandatory",
};

/** The pack's verdicts on a plan as the SDK's analyzer gives them to the engine. */
async function engineVerdicts(plan: PlannedResource[]): Promise<Violation[]> {
  const nameByUrn = new Map(plan.map((r) => [r.urn, r.name]));
  const analyze = server.makeAnalyzeRpcFun(packName, "1.0.0", packEnforcementLevel, policies);
  const analyzeStack = server.makeAnalyzeStackRpcFun(packName, "1.0.0", packEnforcementLevel, policies);
  const verdicts: Violation[] = [];
  const collect = (response: analyzer.AnalyzeResponse, resource?: string) => {
    for (const d of response.getDiagnosticsList()) {
      // The engine prefixes a reported message with the policy's description.
      const prefix = `${d.getDescription()}\n`;
      const message = d.getMessage().startsWith(prefix) ? d.getMessage().slice(prefix.length) : d.getMessage();
      const name = resource ?? nameByUrn.get(d.getUrn());
      verdicts.push({
        policy: d.getPolicyname(),
        level: LEVELS[d.getEnforcementlevel()] as Violation["level"],
        ...(name ? { resource: name } : {}),
        message,
      });
    }
  };
  for (const resource of plan.filter((r) => r.custom)) {
    collect(await invoke(analyze, withResource(new analyzer.AnalyzeRequest(), resource)), resource.name);
  }
  const stackRequest = new analyzer.AnalyzeStackRequest();
  stackRequest.setResourcesList(
    plan.map((resource) => {
      const entry = withResource(new analyzer.AnalyzerResource(), resource);
      if (resource.parent) entry.setParent(resource.parent);
      entry.setDependenciesList(resource.dependencies);
      return entry;
    }),
  );
  collect(await invoke(analyzeStack, stackRequest));
  return verdicts;
}

const n = namesOf("prod");

describe("offline runner vs the policy SDK's analyzer", () => {
  it("gives the same verdicts on a production plan (none)", async () => {
    expect(await engineVerdicts(buildStack(TWO_REGIONS))).toEqual([]);
    expect((await runPolicies(buildStack(TWO_REGIONS))).violations).toEqual([]);
  });

  it("gives the same verdicts, levels, resources and messages on a plan that breaks many rules", async () => {
    let plan = buildStack({
      postgresNodeCount: 1,
      readReplicas: 0,
      appReplicas: 1,
      evictionPolicy: "allkeys_lru",
      image: "x/app:latest",
      pdbMinAvailable: 1,
    });
    plan = editProps(plan, n.postgres, (props) => (props.privateNetworkUuid = unknownValue));
    plan = editProps(plan, n.valkey, (props) => (props.evictionPolicy = unknownValue));
    plan = editProps(plan, n.valkeyFirewall, (props) => props.rules.push({ type: "ip_addr", value: "203.0.113.0/24" }));
    plan = editResource(plan, n.valkey, (r) => (r.protect = false));
    plan = editProps(plan, n.deployment, (props) => props.spec.template.spec.containers[0].env.push({ name: "API_TOKEN", value: "abc" }));

    const engine = await engineVerdicts(plan);
    const offline = (await runPolicies(plan)).violations;
    expect(offline.length).toBeGreaterThanOrEqual(12);
    expect(offline).toContainEqual(
      expect.objectContaining({
        policy: "valkey-eviction-policy",
        level: "advisory",
        message: expect.stringContaining("can't run policy"),
      }),
    );
    // Offline the runner also knows which inputs were secrets; the engine cannot, so that policy may differ.
    const comparable = (vs: Violation[]) => vs.filter((v) => v.policy !== "kubernetes-secret-data");
    expect(comparable(offline)).toEqual(comparable(engine));
  });
});
