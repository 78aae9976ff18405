/**
 * How a bad stack config value is reported: ConfigError names the exact key path, what was found (never a secret's
 * value) and what is accepted; validateKey turns a zod failure into one.
 */
import type { z } from "zod";

/** A stack configuration error: names the key, what was found and what is accepted. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`${key}: ${detail}`);
    this.name = "ConfigError";
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Validates one key's raw value; a failure throws a ConfigError naming the exact key path. */
export function validateKey<T extends z.ZodType>(key: string, schema: T, raw: unknown, secret = false): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = [key, ...issue.path.map(String)].join(".");
  if (issue.code === "unrecognized_keys") {
    const shape = issue.path.length === 0 && "shape" in schema ? Object.keys(schema.shape as object) : [];
    const accepted = shape.length ? `; accepted keys: ${shape.join(", ")}` : "";
    throw new ConfigError(`${path}.${issue.keys[0]}`, `unknown key${accepted}`);
  }
  let found: unknown = raw;
  for (const part of issue.path) found = (found as Record<PropertyKey, unknown> | undefined)?.[part as PropertyKey];
  const accepted = issue.code === "invalid_value" ? `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}` : issue.message;
  const got = secret ? "a secret value" : describe(found);
  throw new ConfigError(path, found === undefined ? `missing; expected ${accepted}` : `got ${got}; expected ${accepted}`);
}
