/**
 * Runs the real infra program under Pulumi's mock runtime and records every resource it registers,
 * with what the engine would hand a policy pack: type, name, URN, inputs (secrets marked), parent,
 * `protect`, `additionalSecretOutputs`, `ignoreChanges` and dependencies. No CLI, no credentials, no network.
 *
 * The Pulumi runtime is process-global: render one stack per process (or per jest test file).
 */
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { TOKEN_DIR_ENV } from "../infra/kubeconfig";
import type { PlannedResource } from "./plan";
import { mockCall, mockResourceState } from "./mocks";
import type { StackConfigFile } from "./stack-file";

/**
 * Where the program writes the mock cluster's token under the offline preview: its own directory, never the
 * one a real `pulumi up` on this machine uses (the fake token must not overwrite a real one).
 */
const OFFLINE_TOKEN_DIR = path.join(os.tmpdir(), "gomeet-kube-offline-preview");

/** What the program would create, and its stack outputs. */
export interface RenderedPlan {
  stack: string;
  resources: PlannedResource[];
  /** Stack outputs; secret ones carry `secret: true` and no value. */
  outputs: Record<string, { value?: unknown; secret: boolean }>;
}

/** Minimal view of the gRPC RegisterResourceRequest that the recording monitor reads. */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProtect(): boolean | undefined;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getObject(): unknown;
  getPropertydependenciesMap(): { forEach(fn: (deps: { getUrnsList(): string[] }, key: string) => void): void };
  /** `<provider URN>::<provider id>`, or "" for the default provider. */
  getProvider(): string;
  getDeletebeforereplace(): boolean;
  getIgnorechangesList(): string[];
  getImportid(): string;
  getRetainondelete(): boolean | undefined;
}

interface Recorded {
  request: RegisterRequest;
  urn?: string;
}

type RegisterCallback = (err: unknown, res: unknown) => void;
interface RegisteringMonitor {
  registerResource(req: RegisterRequest, callback: RegisterCallback): Promise<void>;
}

/**
 * Makes the installed mock monitor keep every registration request and the URN it answered with.
 * (Wrapping the instance keeps the feature flags `setMocks` set; replacing the monitor would reset them.)
 */
function recordRegistrations(monitor: RegisteringMonitor): Recorded[] {
  const recorded: Recorded[] = [];
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    const entry: Recorded = { request: req };
    recorded.push(entry);
    return register(req, (err, res) => {
      if (!err) entry.urn = (res as { getUrn(): string }).getUrn();
      callback(err, res);
    });
  };
  return recorded;
}

function isSecretValue(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** Unwraps secret markers into plain values, collecting the paths that were secret. */
export function unwrapSecrets(value: unknown, path: string, secretPaths: string[]): unknown {
  if (isSecretValue(value)) {
    secretPaths.push(path);
    return unwrapSecrets(value.value, path, []);
  }
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secretPaths));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, path ? `${path}.${k}` : k, secretPaths)]));
  }
  return value;
}

/** Which resources' outputs flow into each input: what the engine knows to mark unknown when one is replaced. */
function propertyDependenciesOf(req: RegisterRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((deps, key) => {
    const urns = deps.getUrnsList();
    if (urns.length) out[key] = [...urns].sort();
  });
  return out;
}

function toPlanned(entry: Recorded): PlannedResource {
  const req = entry.request;
  const secretPaths: string[] = [];
  const props = unwrapSecrets(deserializeProperties(req.getObject() as never), "", secretPaths) as Record<string, unknown>;
  return {
    type: req.getType(),
    name: req.getName(),
    urn: entry.urn ?? "",
    props,
    secretPaths,
    protect: req.getProtect() === true,
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    parent: req.getParent() || undefined,
    dependencies: req.getDependenciesList(),
    custom: req.getCustom(),
    propertyDependencies: propertyDependenciesOf(req),
    ...(req.getProvider() ? { provider: req.getProvider().split("::").slice(0, -1).join("::") } : {}),
    ...(req.getDeletebeforereplace() ? { deleteBeforeReplace: true } : {}),
    ...(req.getIgnorechangesList().length ? { ignoreChanges: [...req.getIgnorechangesList()] } : {}),
    ...(req.getImportid() ? { importId: req.getImportid() } : {}),
    ...(req.getRetainondelete() ? { retainOnDelete: true } : {}),
  };
}

async function resolveOutputs(exports: Record<string, unknown>): Promise<RenderedPlan["outputs"]> {
  const outputs: RenderedPlan["outputs"] = {};
  for (const [name, value] of Object.entries(exports)) {
    if (!pulumi.Output.isInstance(value)) continue;
    const secret = await pulumi.isSecret(value);
    const resolved = await new Promise<unknown>((resolve) => value.apply((v) => resolve(v)));
    outputs[name] = secret ? { secret } : { value: resolved, secret };
  }
  return outputs;
}

/**
 * Renders the program at `programPath` with the given stack config. Rejects with the program's own error
 * (e.g. a `ConfigError` naming the bad key) when it fails.
 */
export async function renderStack(stackFile: StackConfigFile, programPath: string, project = "gomeet"): Promise<RenderedPlan> {
  const failures: unknown[] = [];
  const onRejection = (reason: unknown) => failures.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    const mocks: pulumi.runtime.Mocks = {
      newResource: (args) => ({
        id: `${args.name}-id`,
        state: { ...args.inputs, ...mockResourceState(args.type, args.name, args.inputs) },
      }),
      call: (args) => mockCall(args.token, args.inputs),
    };
    await pulumi.runtime.setMocks(mocks, project, stackFile.stack, true);
    const recorded = recordRegistrations(pulumi.runtime.getMonitor() as unknown as RegisteringMonitor);
    pulumi.runtime.setAllConfig(stackFile.config, stackFile.secretKeys);
    process.env[TOKEN_DIR_ENV] = OFFLINE_TOKEN_DIR;

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exports = require(programPath) as Record<string, unknown>;
    const outputs = await resolveOutputs(exports);
    await pulumi.runtime.disconnect();
    if (failures.length) throw failures[0];
    const resources = recorded.map(toPlanned);
    const pending = resources.filter((r) => !r.urn);
    if (pending.length) throw new Error(`registration failed for ${pending.map((r) => `${r.type} ${r.name}`).join(", ")}`);
    return { stack: stackFile.stack, resources, outputs };
  } finally {
    process.off("unhandledRejection", onRejection);
  }
}
