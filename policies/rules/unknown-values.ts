/**
 * Preview-time unknown values, as the policy SDK models them.
 *
 * During `pulumi preview` the engine hands policies property objects wrapped in the SDK's
 * unknown-checking proxy: reading a value that is only known after the update (an ID, an IP) throws
 * `UnknownValueError`, and the engine reports "can't run policy ... during preview" as an advisory
 * finding. `@pulumi/policy` exports both at runtime but strips their declarations (`@internal`), so
 * this module gives them types.
 */
import * as policySdk from "@pulumi/policy";

interface UnknownValueSupport {
  UnknownValueError: abstract new (...args: never[]) => Error;
  unknownCheckingProxy<T extends object>(value: T): T;
}

const sdk = policySdk as unknown as UnknownValueSupport;

/** True for the error thrown when a policy reads a value that is unknown during a preview. */
export function isUnknownValueError(error: unknown): error is Error {
  return error instanceof sdk.UnknownValueError;
}

/** Wraps properties the way the engine does, so reading an unknown value throws `UnknownValueError`. */
export function unknownCheckingProxy<T extends object>(value: T): T {
  return sdk.unknownCheckingProxy(value);
}
