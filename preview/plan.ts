/**
 * The contract between the offline preview (which renders the infra program under Pulumi's mock
 * runtime) and the offline policy runner (which evaluates the pack the way the Pulumi engine does).
 *
 * A `PlannedResource` is one resource the program registered, with what a CrossGuard policy can see
 * of it in a real `pulumi preview`: its type token, name, URN, input properties (secrets unwrapped to
 * plain values, exactly as the engine hands them to analyzers), and the options the engine passes
 * (`protect`, `additionalSecretOutputs`, parent, dependencies).
 */

/** One registered resource, as the engine would show it to a policy pack. */
export interface PlannedResource {
  /** Pulumi type token, e.g. `digitalocean:index/databaseCluster:DatabaseCluster`. */
  type: string;
  /** The logical name given to the resource constructor. */
  name: string;
  /** The resource's URN (unique within a plan). */
  urn: string;
  /** Input properties as given, secrets unwrapped to their plain values. */
  props: Record<string, unknown>;
  /** Property paths (dot/bracket notation, e.g. `data.DATABASE_URL`) whose values were Pulumi secrets. */
  secretPaths: string[];
  /** `protect` resource option. */
  protect: boolean;
  /** `additionalSecretOutputs` resource option (the kubernetes SDK sets it on Secrets). */
  additionalSecretOutputs: string[];
  /** URN of the parent resource (a component), if any. */
  parent?: string;
  /** URNs of the resources this one depends on (explicit `dependsOn` and implicit, through inputs). */
  dependencies: string[];
  /** Whether it is a custom (provider) resource rather than a component. */
  custom: boolean;
  /** Per input property, the URNs of the resources whose outputs flow into it (the engine's propertyDependencies). */
  propertyDependencies?: Record<string, string[]>;
  /** URN of the provider resource that manages it (absent for the default provider). */
  provider?: string;
  /** `deleteBeforeReplace` resource option. */
  deleteBeforeReplace?: boolean;
  /** `ignoreChanges` resource option: input paths a later `pulumi up` leaves as they are (absent when none). */
  ignoreChanges?: string[];
  /** `import` resource option: the cloud id of an existing resource Pulumi adopts instead of creating. */
  importId?: string;
  /** `retainOnDelete` resource option: deleting it only removes it from Pulumi's state. */
  retainOnDelete?: boolean;
}

export type EnforcementLevel = "mandatory" | "advisory" | "disabled";

/** One policy violation, as the preview prints it and `--json` reports it. */
export interface Violation {
  /** Policy name, e.g. `postgres-high-availability`. */
  policy: string;
  level: "mandatory" | "advisory";
  /** The offending resource's name (absent for a stack-wide finding with no single resource). */
  resource?: string;
  /** Names the resource, the property, the value found and the value required. */
  message: string;
}

/**
 * Policy-pack configuration as `pulumi preview --policy-pack-config <file>` takes it:
 * `{ "<policy name>": { "enforcementLevel"?: ..., "<threshold>": value } }`.
 */
export type PolicyPackConfig = Record<string, { enforcementLevel?: EnforcementLevel; [key: string]: unknown }>;
