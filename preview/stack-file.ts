/**
 * Reads a `Pulumi.<stack>.yaml` stack file the way the Pulumi CLI hands config to a program: every key
 * namespaced, objects as JSON text, and the keys holding `secure:` values marked secret. The offline
 * preview cannot decrypt those values, so each becomes a placeholder that never reaches the output.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

/** A stack file's config, as `pulumi.runtime.setAllConfig` takes it. */
export interface StackConfigFile {
  stack: string;
  file: string;
  /** `namespace:key` → value (objects and arrays as JSON text). */
  config: Record<string, string>;
  /** Keys that hold at least one secure value. */
  secretKeys: string[];
}

/** An error in the preview's input (unknown stack, unreadable file, bad arguments): exit code 2. */
export class PreviewInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PreviewInputError";
  }
}

/** Stands in for a value the offline preview cannot decrypt (a valid URL, so URL-typed secrets validate). */
export const SECRET_PLACEHOLDER = "https://offline-preview.invalid/secret";

/** Fields that carry credentials: in a stack file they must be `secure:` values, never plain text. */
const CREDENTIAL_FIELDS = /^(apiKey|apiSecret|webhookUrl|password|token)$/i;

/** Stack names that have a `Pulumi.<name>.yaml` in `root`. */
export function listStacks(root: string): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Reads the project name from `Pulumi.yaml` (the default config namespace). */
export function projectName(root: string): string {
  const file = path.join(root, "Pulumi.yaml");
  const doc = parse(fs.readFileSync(file, "utf8")) as { name?: unknown } | null;
  if (typeof doc?.name !== "string") throw new PreviewInputError(`${file}: no project name`);
  return doc.name;
}

function isSecure(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && Object.keys(value).length === 1 && "secure" in value;
}

/** Replaces secure leaves with the placeholder; reports plaintext credentials; returns whether any leaf was secure. */
function unwrap(value: unknown, where: string, problems: string[]): { value: unknown; secret: boolean } {
  if (isSecure(value)) return { value: SECRET_PLACEHOLDER, secret: true };
  if (Array.isArray(value)) {
    const items = value.map((v, i) => unwrap(v, `${where}[${i}]`, problems));
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (typeof value === "object" && value !== null) {
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (CREDENTIAL_FIELDS.test(k) && typeof v === "string") {
        problems.push(
          `${where}.${k} holds a credential in plain text: make it a secure value (pulumi config set --secret --path '${where}.${k}' ...)`,
        );
      }
      const inner = unwrap(v, `${where}.${k}`, problems);
      out[k] = inner.value;
      secret ||= inner.secret;
    }
    return { value: out, secret };
  }
  return { value, secret: false };
}

/** Reads and checks `Pulumi.<stack>.yaml` in `root`. */
export function readStackFile(root: string, stack: string): StackConfigFile {
  if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new PreviewInputError(`stack name ${JSON.stringify(stack)} is not valid`);
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = listStacks(root);
    throw new PreviewInputError(
      `unknown stack "${stack}": there is no ${path.basename(file)} in ${root}` +
        (known.length ? ` (stacks here: ${known.join(", ")})` : ""),
    );
  }
  let doc: unknown;
  try {
    doc = parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    throw new PreviewInputError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const raw = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) throw new PreviewInputError(`${file}: "config" must be a mapping`);
  const namespace = projectName(root);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const problems: string[] = [];
  for (const [rawKey, rawValue] of Object.entries(raw as Record<string, unknown>)) {
    const key = rawKey.includes(":") ? rawKey : `${namespace}:${rawKey}`;
    const { value, secret } = unwrap(rawValue, key, problems);
    config[key] = typeof value === "string" ? value : JSON.stringify(value);
    if (secret) secretKeys.push(key);
  }
  if (problems.length) throw new PreviewInputError(`${file}: ${problems.join("; ")}`);
  return { stack, file, config, secretKeys };
}
