/**
 * What the offline runner knows that the engine does not tell a policy.
 *
 * The engine unwraps secrets before a policy sees resource inputs, so a policy cannot tell a
 * `pulumi.secret(...)` value from a plain one. The offline preview records which input paths were
 * secrets (`PlannedResource.secretPaths`) and the runner attaches them to the validation args under
 * {@link SECRET_PATHS}. Policies use them when present and fall back to what the engine exposes
 * (`opts.additionalSecretOutputs`) when they are not.
 */

/** Key of the secret input paths on `ResourceValidationArgs` (set by the offline runner only). */
export const SECRET_PATHS: unique symbol = Symbol.for("@gomeet/policies/secret-paths");

/** Validation args as the offline runner extends them. */
export interface OfflineResourceContext {
  [SECRET_PATHS]?: readonly string[];
}

/** The resource's secret input paths (e.g. `stringData.DATABASE_URL`), or `undefined` under the real engine. */
export function secretPathsOf(args: object): readonly string[] | undefined {
  return (args as OfflineResourceContext)[SECRET_PATHS];
}
