/**
 * Property facts from terraform's resource schemas, matched to the Pulumi schema: which properties force a
 * replacement, and the value rules their ValidateFuncs express.
 */
import * as path from "node:path";
import type { PropertyFact, ValueRule } from "../facts";
import type { Checkout } from "./checkout";
import { closingIndex, goStrings, type TfField } from "./go-schema";

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

/** The value rules a terraform ValidateFunc expresses (nothing for validators this file does not know). */
export function rulesOfValidateFunc(expression: string, source: string): ValueRule[] {
  const call = /^validation\.(\w+)(?:\(([\s\S]*)\))?$/.exec(expression.trim());
  if (!call) return [];
  const [, fn, args = ""] = call;
  const ints = args.split(",").map((a) => Number(a.trim()));
  switch (fn) {
    case "StringInSlice": {
      const list = args.slice(args.indexOf("{") + 1, closingIndex(args, args.indexOf("{")) - 1);
      const literalsOnly = list.replace(/"(?:[^"\\]|\\.)*"/g, "").replace(/[\s,]/g, "") === "";
      if (!literalsOnly) return [];
      return [{ enum: goStrings(list), ...(/,\s*true\s*$/.test(args) ? { ignoreCase: true } : {}), source }];
    }
    case "IsDayOfTheWeek":
      return [
        {
          enum: ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
          ignoreCase: args.trim() === "true",
          source,
        },
      ];
    case "IntBetween":
      return [{ min: ints[0], max: ints[1], source }];
    case "IntAtLeast":
      return [{ min: ints[0], source }];
    case "IntAtMost":
      return [{ max: ints[0], source }];
    case "StringLenBetween":
      return [{ minLength: ints[0], maxLength: ints[1], source }];
    case "IsCIDR":
      return [{ format: "cidr", source }];
    case "IsUUID":
      return [{ format: "uuid", source }];
    case "NoZeroValues":
    case "StringIsNotEmpty":
      return [{ format: "nonEmpty", source }];
    default:
      return [];
  }
}

interface SchemaProperty {
  type?: string;
  $ref?: string;
  items?: SchemaProperty;
  willReplaceOnChanges?: boolean;
  oneOf?: SchemaProperty[];
}
export interface PulumiSchema {
  resources: Record<string, { inputProperties: Record<string, SchemaProperty>; requiredInputs?: string[] }>;
  types: Record<string, { properties?: Record<string, SchemaProperty>; enum?: { value: string }[] }>;
}

/** The Pulumi name of a terraform field among a schema object's properties (`rule` → `rules`, `email` → `emails`). */
export function pulumiName(tfName: string, properties: Record<string, SchemaProperty>): string | undefined {
  const base = camel(tfName);
  return [base, `${base}s`, `${base}es`].find((n) => n in properties);
}

function refTarget(p: SchemaProperty): string | undefined {
  return (p.$ref ?? p.items?.$ref)?.replace("#/types/", "");
}

/** Walks terraform fields alongside the Pulumi schema, collecting ForceNew and validation facts by Pulumi path. */
export function collectProperties(
  schema: PulumiSchema,
  fields: TfField[],
  properties: Record<string, SchemaProperty>,
  prefix: string,
  tfSource: string,
  schemaSource: string,
  out: Record<string, PropertyFact>,
): void {
  for (const field of fields) {
    const name = pulumiName(field.name, properties);
    if (!name) continue;
    const prop = properties[name]!;
    const isList = prop.type === "array";
    const here = `${prefix}${name}`;
    const rules = field.validate ? rulesOfValidateFunc(field.validate, tfSource) : [];
    const forceNew = field.forceNew || prop.willReplaceOnChanges === true;
    // Enums the schema offers as `oneOf: [string, <Enum>]` (Region, DatabaseSlug, RecordType) are suggestions, not
    // limits: the SDK accepts any string there, and DigitalOcean adds regions and sizes. They are not facts here.
    if (forceNew || rules.length) {
      out[isList && !field.nested ? `${here}[]` : here] = {
        ...(forceNew ? { forceNew: true } : {}),
        ...(rules.length ? { rules } : {}),
        source: field.forceNew || rules.some((r) => r.source === tfSource) ? tfSource : schemaSource,
      };
    }
    const target = refTarget(prop);
    const nestedProps = target ? schema.types[target]?.properties : undefined;
    if (field.nested && nestedProps) {
      collectProperties(schema, field.nested, nestedProps, `${here}${isList ? "[]" : ""}.`, tfSource, schemaSource, out);
    }
  }
}

/** Resolves `nodePoolSchema(false)` and the like: the first schema map literal in that function's package. */
export function resolverFor(tf: Checkout, file: string) {
  const dir = path.posix.dirname(file);
  return (call: string): string | undefined => {
    const fn = /^(\w+)\(/.exec(call)?.[1];
    if (!fn) return undefined;
    for (const f of tf.list(dir).filter((n) => n.endsWith(".go") && !n.endsWith("_test.go"))) {
      const text = tf.read(f);
      const at = text.indexOf(`func ${fn}(`);
      if (at >= 0) return text.slice(at);
    }
    return undefined;
  };
}
