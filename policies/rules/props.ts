/**
 * Safe reading of resource properties as the engine hands them to a policy.
 *
 * Any property may be absent, of an unexpected shape, or (during a preview) unknown: reading an unknown
 * value throws the SDK's `UnknownValueError`, which the engine turns into an advisory "can't run during
 * preview" finding. These helpers never assume a shape; `readOrUnknown` lets a policy treat "unknown
 * now, set at apply time" as present instead of giving up.
 */
import { isUnknownValueError } from "./unknown-values";

/** A property bag. */
export type Props = Record<string, unknown>;

/** Reads a nested property; `undefined` as soon as a hop is not an object or array. */
export function field(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** The value as a property bag, or `undefined` if it is not a (non-array) object. */
export function record(value: unknown): Props | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Props) : undefined;
}

/** The value as an array (`[]` if it is not one). */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or `undefined`. */
export function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The value as a finite number, or `undefined`. */
export function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

/** A string-to-string map (labels, annotations); entries whose value is not a string are dropped. */
export function stringMap(value: unknown): Record<string, string> {
  const bag = record(value) ?? {};
  return Object.fromEntries(Object.entries(bag).filter((entry): entry is [string, string] => typeof entry[1] === "string"));
}

/** Marker for a value that exists but is only known once the update runs. */
export const UNKNOWN = Symbol("unknown during preview");

/** Runs a read; returns {@link UNKNOWN} instead of throwing when the value is unknown during a preview. */
export function readOrUnknown<T>(read: () => T): T | typeof UNKNOWN {
  try {
    return read();
  } catch (error) {
    if (isUnknownValueError(error)) return UNKNOWN;
    throw error;
  }
}

/** Renders a found value for a message: `unset`, a quoted string, a number, or compact JSON. */
export function describe(value: unknown): string {
  if (value === UNKNOWN) return "unknown until apply";
  if (value === undefined || value === null) return "unset";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** The short kind of a type token: `digitalocean:index/databaseCluster:DatabaseCluster` → `DatabaseCluster`. */
export function kindOf(type: string): string {
  return type.slice(type.lastIndexOf(":") + 1) || type;
}

/** How messages name a resource: `DatabaseCluster "gomeet-prod-pg"`. */
export function subject(type: string, name: string): string {
  return `${kindOf(type)} "${name}"`;
}

/** One finding, worded the same way everywhere. */
export interface Finding {
  /** The resource, as {@link subject} names it. */
  resource: string;
  /** The property path, e.g. `spec.replicas` or `option protect`. */
  property: string;
  /** The value found, already rendered (usually with {@link describe}). */
  found: string;
  /** The value required. */
  required: string;
  /** Why it matters, in one sentence. */
  reason?: string;
}

/** `DatabaseCluster "x": nodeCount is 1; required at least 2. <reason>` */
export function message(finding: Finding): string {
  const base = `${finding.resource}: ${finding.property} is ${finding.found}; required ${finding.required}.`;
  return finding.reason ? `${base} ${finding.reason}` : base;
}
