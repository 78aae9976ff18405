/**
 * Typed policy thresholds.
 *
 * Each policy declares its settings once; the same declaration yields the `configSchema` the engine
 * validates a `--policy-pack-config` file against (defaults = production values) and the typed values a
 * policy reads. Defaults are merged in here too, so a policy behaves the same whether or not the engine
 * already applied the schema defaults.
 */
import type { PolicyConfigSchema } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";

/** One setting: its JSON schema with a default of type `T`. */
export type Setting<T> = PolicyConfigJSONSchema & { default: T; description: string };

/** A policy's settings by key. */
export type Settings = Record<string, Setting<unknown>>;

/** The values of a set of settings. */
export type SettingValues<S extends Settings> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** An integer threshold with a lower bound. */
export function integerSetting(defaultValue: number, minimum: number, description: string): Setting<number> {
  return { type: "integer", minimum, default: defaultValue, description };
}

/** A non-empty string. */
export function stringSetting(defaultValue: string, description: string): Setting<string> {
  return { type: "string", minLength: 1, default: defaultValue, description };
}

/** A list of non-empty strings. */
export function stringListSetting(defaultValue: string[], description: string): Setting<string[]> {
  return { type: "array", items: { type: "string", minLength: 1 }, default: defaultValue, description };
}

/** The `configSchema` of a policy with these settings. */
export function configSchemaOf(settings: Settings): PolicyConfigSchema {
  return { properties: { ...settings } };
}

/** Anything that hands out policy configuration (resource and stack validation args). */
export interface ConfigSource {
  getConfig<T extends object>(): T;
}

/** The policy's settings: schema defaults overridden by the configured values. */
export function readSettings<S extends Settings>(args: ConfigSource, settings: S): SettingValues<S> {
  const defaults = Object.fromEntries(Object.entries(settings).map(([key, setting]) => [key, setting.default]));
  return { ...defaults, ...args.getConfig<Partial<SettingValues<S>>>() } as SettingValues<S>;
}
