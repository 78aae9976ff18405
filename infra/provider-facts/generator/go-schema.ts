/**
 * Reads terraform-plugin-sdk schema literals (`map[string]*schema.Schema{ "name": { Type: ..., ForceNew: true,
 * ValidateFunc: validation.StringInSlice(...) } }`) out of Go source text: enough of Go's lexical rules
 * (strings, raw strings, comments, balanced brackets) to split a map literal into its fields.
 */

/** One field of a terraform schema. */
export interface TfField {
  name: string;
  type?: string;
  required: boolean;
  optional: boolean;
  computed: boolean;
  forceNew: boolean;
  /** The field has a `Default:` (the provider sends it when the program does not). */
  hasDefault?: boolean;
  maxItems?: number;
  /** The ValidateFunc expression as written, if any. */
  validate?: string;
  /** Fields of a nested block (`Elem: &schema.Resource{Schema: ...}`). */
  nested?: TfField[];
}

/** Index just past the bracket that closes the one at `open` (skipping strings and comments). */
export function closingIndex(text: string, open: number): number {
  const pairs: Record<string, string> = { "{": "}", "(": ")", "[": "]" };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
    } else if (c === "`") {
      i = text.indexOf("`", i + 1);
    } else if (c === "/" && text[i + 1] === "/") {
      i = text.indexOf("\n", i);
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i) + 1;
    } else if (pairs[c]) {
      stack.push(pairs[c]!);
    } else if (c === "}" || c === ")" || c === "]") {
      if (stack.pop() !== c) throw new Error(`unbalanced ${c} at ${i}`);
      if (stack.length === 0) return i + 1;
    }
    if (i < 0) break;
  }
  throw new Error(`no closing bracket for the one at ${open}`);
}

/** Splits the inside of a brace literal into its top-level, comma-separated items. */
function topLevelItems(body: string): string[] {
  const items: string[] = [];
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"') {
      for (i++; i < body.length && body[i] !== '"'; i++) if (body[i] === "\\") i++;
    } else if (c === "`") {
      i = body.indexOf("`", i + 1);
    } else if (c === "/" && body[i + 1] === "/") {
      i = body.indexOf("\n", i);
      if (i < 0) i = body.length;
    } else if (c === "/" && body[i + 1] === "*") {
      i = body.indexOf("*/", i) + 1;
    } else if (c === "{" || c === "(" || c === "[") {
      i = closingIndex(body, i) - 1;
    } else if (c === ",") {
      items.push(body.slice(start, i));
      start = i + 1;
    }
  }
  items.push(body.slice(start));
  return items.map((s) => stripComments(s).trim()).filter(Boolean);
}

function stripComments(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** The value of `Key: value` among a literal's items. */
function attribute(items: string[], key: string): string | undefined {
  const item = items.find((i) => i.startsWith(`${key}:`));
  return item?.slice(key.length + 1).trim();
}

/** Resolves a Go function that returns a schema map (`nodePoolSchema(false)`) to its map literal. */
export type SchemaFunctionResolver = (call: string) => string | undefined;

const SCHEMA_MAP = "map[string]*schema.Schema{";

/** Parses the schema map literal that starts at `text[index]` (the `map[string]*schema.Schema{`). */
export function parseSchemaMap(
  text: string,
  index: number,
  resolve: SchemaFunctionResolver,
  constants: Record<string, string> = {},
): TfField[] {
  const open = text.indexOf("{", index);
  const body = text.slice(open + 1, closingIndex(text, open) - 1);
  return topLevelItems(body).flatMap((item) => {
    const m = /^("([^"]+)"|([A-Za-z_][\w.]*))\s*:\s*([\s\S]*)$/.exec(item);
    if (!m) return [];
    const name = m[2] ?? constants[m[3]!];
    if (!name) return [];
    const value = m[4]!.trim();
    if (!value.startsWith("{")) return [{ name, required: false, optional: true, computed: false, forceNew: false }];
    return [parseField(name, value, resolve, constants)];
  });
}

function parseField(name: string, literal: string, resolve: SchemaFunctionResolver, constants: Record<string, string>): TfField {
  const items = topLevelItems(literal.slice(1, closingIndex(literal, 0) - 1));
  const flag = (key: string) => attribute(items, key) === "true";
  const field: TfField = {
    name,
    type: attribute(items, "Type")?.replace(/^schema\./, ""),
    required: flag("Required"),
    optional: flag("Optional"),
    computed: flag("Computed"),
    forceNew: flag("ForceNew"),
    ...(attribute(items, "Default") !== undefined ? { hasDefault: true } : {}),
  };
  const maxItems = attribute(items, "MaxItems");
  if (maxItems && /^\d+$/.test(maxItems)) field.maxItems = Number(maxItems);
  const validate = attribute(items, "ValidateFunc");
  if (validate) field.validate = validate.replace(/\s+/g, " ");
  const elem = attribute(items, "Elem");
  if (elem?.startsWith("&schema.Resource{")) {
    const inner = topLevelItems(elem.slice(elem.indexOf("{") + 1, closingIndex(elem, elem.indexOf("{")) - 1));
    const schema = attribute(inner, "Schema");
    if (schema?.startsWith(SCHEMA_MAP)) field.nested = parseSchemaMap(schema, 0, resolve, constants);
    else if (schema) {
      const resolved = resolve(schema);
      if (resolved) field.nested = parseSchemaMap(resolved, resolved.indexOf(SCHEMA_MAP), resolve, constants);
    }
  }
  return field;
}

/** The first schema map literal after `after` in `text` (the resource's own schema). */
export function resourceSchema(text: string, resolve: SchemaFunctionResolver, after = "Schema: map[string]*schema.Schema{"): TfField[] {
  const at = text.indexOf(after);
  if (at < 0) throw new Error("no schema map literal found");
  return parseSchemaMap(text, at + after.indexOf(SCHEMA_MAP), resolve, goStringConstants(text));
}

/** `name = "value"` string constants of a file (some schema keys are constants). */
export function goStringConstants(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/^\s*(\w+)\s*=\s*"([^"]*)"\s*$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** Fields that `customdiff.ForceNewIfChange("<field>", ...)` replaces when the value goes down. */
export function forceNewIfChangeFields(text: string): string[] {
  return [...text.matchAll(/customdiff\.ForceNewIfChange\("([^"]+)"/g)].map((m) => m[1]!);
}

/** Go string literals inside an expression, e.g. the values of `validation.StringInSlice([]string{...})`. */
export function goStrings(expression: string): string[] {
  return [...expression.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
}
