/**
 * Regenerates `infra/provider-facts/digitalocean.json` from local checkouts of DigitalOcean's published sources:
 *
 *   npx tsx scripts/provider-facts/generate.ts --pulumi <pulumi-digitalocean> --terraform <terraform-provider-digitalocean> \
 *     --ccm <digitalocean-cloud-controller-manager> --openapi <openapi> [--out <file>]
 *
 * Each argument is a work tree or a bare git directory (files are then read from its HEAD). Only distilled facts
 * are written, each with `<repository>@<commit>:<path>`; no source text is copied. Not run by the tests (the
 * checkouts are not on CI machines): `test/infra/provider-facts.test.ts` checks the committed file's shape.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { doLoadBalancerAnnotation, DO_LOAD_BALANCER_ANNOTATION_PREFIX } from "../../infra/annotations";
import type { AnnotationFact, FactSource, PropertyFact, ProviderFacts, ResourceFacts, ValueRule } from "../../infra/provider-facts/facts";
import { closingIndex, forceNewIfChangeFields, goStrings, resourceSchema, type TfField } from "./go-schema";

const REPOSITORIES = {
  pulumi: "pulumi/pulumi-digitalocean",
  terraform: "digitalocean/terraform-provider-digitalocean",
  ccm: "digitalocean/digitalocean-cloud-controller-manager",
  openapi: "digitalocean/openapi",
} as const;
type Repo = keyof typeof REPOSITORIES;

const SCHEMA_PATH = "provider/cmd/pulumi-resource-digitalocean/schema.json";
const CCM_ANNOTATIONS_DOC = "docs/controllers/services/annotations.md";
const CCM_ANNOTATIONS_GO = "cloud-controller-manager/do/lb_annotations.go";

/** The resource types this stack uses, with the terraform file that implements each. */
export const RESOURCE_FILES: Record<string, string> = {
  "digitalocean:index/vpc:Vpc": "digitalocean/vpc/resource_vpc.go",
  "digitalocean:index/kubernetesCluster:KubernetesCluster": "digitalocean/kubernetes/resource_kubernetes_cluster.go",
  "digitalocean:index/databaseCluster:DatabaseCluster": "digitalocean/database/resource_database_cluster.go",
  "digitalocean:index/databaseDb:DatabaseDb": "digitalocean/database/resource_database_db.go",
  "digitalocean:index/databaseUser:DatabaseUser": "digitalocean/database/resource_database_user.go",
  "digitalocean:index/databaseReplica:DatabaseReplica": "digitalocean/database/resource_database_replica.go",
  "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool": "digitalocean/database/resource_database_connection_pool.go",
  "digitalocean:index/databaseFirewall:DatabaseFirewall": "digitalocean/database/resource_database_firewall.go",
  "digitalocean:index/certificate:Certificate": "digitalocean/certificate/resource_certificate.go",
  "digitalocean:index/dnsRecord:DnsRecord": "digitalocean/domain/resource_record.go",
  "digitalocean:index/monitorAlert:MonitorAlert": "digitalocean/monitoring/resource_monitor_alert.go",
  "digitalocean:index/uptimeCheck:UptimeCheck": "digitalocean/uptime/resource_uptime_check.go",
  "digitalocean:index/uptimeAlert:UptimeAlert": "digitalocean/uptime/resource_uptime_alert.go",
  "digitalocean:index/project:Project": "digitalocean/project/resource_project.go",
};

/** Enums and ranges the terraform provider does not validate but DigitalOcean's API defines (openapi). */
const OPENAPI_PROPERTIES: { type: string; property: string; file: string; pointer: string[] }[] = [
  {
    type: "digitalocean:index/monitorAlert:MonitorAlert",
    property: "type",
    file: "specification/resources/monitoring/models/alert_policy_request.yml",
    pointer: ["properties", "type"],
  },
  {
    type: "digitalocean:index/monitorAlert:MonitorAlert",
    property: "compare",
    file: "specification/resources/monitoring/models/alert_policy_request.yml",
    pointer: ["properties", "compare"],
  },
  {
    type: "digitalocean:index/monitorAlert:MonitorAlert",
    property: "window",
    file: "specification/resources/monitoring/models/alert_policy_request.yml",
    pointer: ["properties", "window"],
  },
  {
    type: "digitalocean:index/uptimeAlert:UptimeAlert",
    property: "type",
    file: "specification/resources/uptime/models/alert.yml",
    pointer: ["alert_updatable", "properties", "type"],
  },
  {
    type: "digitalocean:index/uptimeAlert:UptimeAlert",
    property: "comparison",
    file: "specification/resources/uptime/models/alert.yml",
    pointer: ["alert_updatable", "properties", "comparison"],
  },
  {
    type: "digitalocean:index/uptimeAlert:UptimeAlert",
    property: "period",
    file: "specification/resources/uptime/models/alert.yml",
    pointer: ["alert_updatable", "properties", "period"],
  },
  {
    type: "digitalocean:index/uptimeCheck:UptimeCheck",
    property: "type",
    file: "specification/resources/uptime/models/check.yml",
    pointer: ["check_updatable", "properties", "type"],
  },
  {
    type: "digitalocean:index/uptimeCheck:UptimeCheck",
    property: "regions[]",
    file: "specification/resources/uptime/models/check.yml",
    pointer: ["check_updatable", "properties", "regions", "items"],
  },
  {
    type: "digitalocean:index/databaseCluster:DatabaseCluster",
    property: "evictionPolicy",
    file: "specification/resources/databases/models/eviction_policy_model.yml",
    pointer: [],
  },
];

/** Service annotations whose numeric range the load balancer API defines (openapi), not the CCM doc. */
const OPENAPI_ANNOTATION_RANGES: { annotation: string; field: string }[] = [
  { annotation: doLoadBalancerAnnotation("http-idle-timeout-seconds"), field: "http_idle_timeout_seconds" },
  { annotation: doLoadBalancerAnnotation("size-unit"), field: "size_unit" },
];
const LB_BASE = "specification/resources/load_balancers/models/load_balancer_base.yml";
const VPC_MODEL = "specification/resources/vpcs/models/vpc.yml";

/** A checkout: a work tree or a bare git directory. */
class Checkout {
  readonly commit: string;
  constructor(
    readonly repo: Repo,
    readonly dir: string,
  ) {
    this.commit = execFileSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  }
  read(file: string): string {
    const onDisk = path.join(this.dir, file);
    if (fs.existsSync(onDisk)) return fs.readFileSync(onDisk, "utf8");
    return execFileSync("git", ["-C", this.dir, "show", `${this.commit}:${file}`], { encoding: "utf8", maxBuffer: 64 << 20 });
  }
  list(dir: string): string[] {
    return execFileSync("git", ["-C", this.dir, "ls-tree", "--name-only", this.commit, `${dir}/`], { encoding: "utf8" })
      .trim()
      .split("\n");
  }
  source(file: string): string {
    return `${REPOSITORIES[this.repo]}@${this.commit}:${file}`;
  }
}

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
interface PulumiSchema {
  resources: Record<string, { inputProperties: Record<string, SchemaProperty>; requiredInputs?: string[] }>;
  types: Record<string, { properties?: Record<string, SchemaProperty>; enum?: { value: string }[] }>;
}

/** The Pulumi name of a terraform field among a schema object's properties (`rule` → `rules`, `email` → `emails`). */
function pulumiName(tfName: string, properties: Record<string, SchemaProperty>): string | undefined {
  const base = camel(tfName);
  return [base, `${base}s`, `${base}es`].find((n) => n in properties);
}

function refTarget(p: SchemaProperty): string | undefined {
  return (p.$ref ?? p.items?.$ref)?.replace("#/types/", "");
}

/** Walks terraform fields alongside the Pulumi schema, collecting ForceNew and validation facts by Pulumi path. */
function collectProperties(
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
function resolverFor(tf: Checkout, file: string) {
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

function resourceFacts(token: string, schema: PulumiSchema, pulumi: Checkout, tf: Checkout): ResourceFacts {
  const resource = schema.resources[token];
  if (!resource) throw new Error(`${token} is not in the Pulumi schema`);
  const file = RESOURCE_FILES[token]!;
  const text = tf.read(file);
  const tfSource = tf.source(file);
  const schemaSource = pulumi.source(SCHEMA_PATH);
  const fields = resourceSchema(text, resolverFor(tf, file));
  const properties: Record<string, PropertyFact> = {};
  collectProperties(schema, fields, resource.inputProperties, "", tfSource, schemaSource, properties);
  for (const tfName of forceNewIfChangeFields(text)) {
    const name = pulumiName(tfName, resource.inputProperties);
    if (name) properties[name] = { ...properties[name], forceNewWhenDecreased: true, source: tfSource };
  }
  return {
    inputs: Object.keys(resource.inputProperties).sort(),
    requiredInputs: [...(resource.requiredInputs ?? [])].sort(),
    properties,
    schemaSource,
    terraformSource: tfSource,
  };
}

function pointerInto(doc: unknown, pointer: string[]): Record<string, unknown> {
  return pointer.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, doc as Record<string, unknown>);
}

function addOpenapiEnums(resources: Record<string, ResourceFacts>, openapi: Checkout): void {
  for (const entry of OPENAPI_PROPERTIES) {
    const node = pointerInto(parseYaml(openapi.read(entry.file)), entry.pointer);
    const values = node.enum as string[] | undefined;
    if (!values) throw new Error(`${entry.file}: no enum at ${entry.pointer.join("/")}`);
    const facts = resources[entry.type]!;
    const existing = facts.properties[entry.property];
    const rule: ValueRule = { enum: values.map(String), source: openapi.source(entry.file) };
    facts.properties[entry.property] = { ...existing, rules: [...(existing?.rules ?? []), rule], source: existing?.source ?? rule.source };
  }
  const vpcModel = parseYaml(openapi.read(VPC_MODEL)) as { vpc_create: { properties: { ip_range: { description: string } } } };
  const description = vpcModel.vpc_create.properties.ip_range.description.replace(/\s+/g, " ");
  const sizes = /smaller than `\/(\d+)` nor larger than `\/(\d+)`/.exec(description);
  if (!/RFC1918/.test(description) || !sizes)
    throw new Error(`${VPC_MODEL}: the ip_range description no longer states RFC1918 and the /N bounds`);
  const ipRange = resources["digitalocean:index/vpc:Vpc"]!.properties.ipRange!;
  ipRange.rules = [
    ...(ipRange.rules ?? []),
    { privateCidrPrefix: { min: Number(sizes[2]), max: Number(sizes[1]) }, source: openapi.source(VPC_MODEL) },
  ];
}

/** Value rule of one annotation from its documentation paragraph. */
export function annotationRule(text: string, source: string): ValueRule {
  const flat = text.replace(/\s+/g, " ");
  const range = /must be between (\d+) and (\d+)/.exec(flat);
  if (range) return { min: Number(range[1]), max: Number(range[2]), source };
  const atLeast = /greater than or equal to `(\d+)`/.exec(flat);
  if (atLeast) return { min: Number(atLeast[1]), source };
  if (/comma separated list of ports/.test(flat)) return { format: "ports", source };
  if (/set to any value/.test(flat)) return { format: "any", source };
  const options = /Options are (.+?)\.(?: |$)/.exec(flat);
  if (options) {
    const values = [...options[1]!.matchAll(/`"?([^`"]+)"?`|"([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    if (values.length === 2 && values.includes("true") && values.includes("false")) return { format: "bool", source };
    if (values.length) return { enum: values, source };
  }
  if (/Defaults to `"(true|false)"`/.test(flat)) return { format: "bool", source };
  return { format: "string", source };
}

function annotationFacts(ccm: Checkout, openapi: Checkout): ProviderFacts["annotations"] {
  const doc = ccm.read(CCM_ANNOTATIONS_DOC);
  const source = ccm.source(CCM_ANNOTATIONS_DOC);
  const known: Record<string, AnnotationFact> = {};
  const sections = doc.split(/^## /m).slice(1);
  for (const section of sections) {
    const [heading, ...rest] = section.split("\n");
    const name = heading!.replace(/"/g, "").trim();
    const body = rest.join("\n").trim();
    const summary = body
      .split(/\n\n/)[0]!
      .replace(/\*\*Note:\*\*.*$/s, "")
      .replace(/\s+/g, " ")
      .trim();
    known[name] = { rule: annotationRule(body.split(/\n\*\*Note\*\*/)[0]!, source), summary: summary.slice(0, 240) };
  }
  const base = parseYaml(openapi.read(LB_BASE)) as { properties: Record<string, { minimum?: number; maximum?: number }> };
  for (const { annotation, field } of OPENAPI_ANNOTATION_RANGES) {
    const spec = base.properties[field];
    if (!known[annotation] || spec?.minimum === undefined) throw new Error(`cannot combine ${annotation} with ${LB_BASE} ${field}`);
    known[annotation]!.rule = {
      min: spec.minimum,
      ...(spec.maximum !== undefined ? { max: spec.maximum } : {}),
      source: openapi.source(LB_BASE),
    };
  }
  const goSource = ccm.source(CCM_ANNOTATIONS_GO);
  const go = ccm.read(CCM_ANNOTATIONS_GO);
  const id = /annDOLoadBalancerID\s*=\s*"([^"]+)"/.exec(go)?.[1];
  if (!id) throw new Error(`${CCM_ANNOTATIONS_GO}: annDOLoadBalancerID not found`);
  known[id] = {
    rule: { format: "uuid", source: goSource },
    writtenByCcm: true,
    summary: "The load balancer's UUID, written by the CCM on the Service.",
  };
  const prefixes = [DO_LOAD_BALANCER_ANNOTATION_PREFIX, "service.kubernetes.io/do-loadbalancer-", "kubernetes.digitalocean.com/"];
  return { prefixes, source, known: Object.fromEntries(Object.entries(known).sort(([a], [b]) => a.localeCompare(b))) };
}

function notes(openapi: Checkout): ProviderFacts["notes"] {
  const out: ProviderFacts["notes"] = {};
  const notification = "specification/resources/uptime/models/notification.yml";
  const email = (parseYaml(openapi.read(notification)) as { properties: { email: { description: string } } }).properties.email.description;
  out.uptimeAlertEmailsVerified = { text: email, source: openapi.source(notification) };
  const create = "specification/resources/monitoring/monitoring_create_alertPolicy.yml";
  for (const m of openapi.read(create).matchAll(/^\s*`(v1\/[^`]+)`\s*\|\s*([^|]+?)\s*\|/gm)) {
    out[`monitorAlertType:${m[1]}`] = { text: m[2]!, source: openapi.source(create) };
  }
  return out;
}

/** Builds the facts from the four checkouts. */
export function generate(dirs: Record<Repo, string>): ProviderFacts {
  const co = Object.fromEntries(Object.entries(dirs).map(([repo, dir]) => [repo, new Checkout(repo as Repo, dir)])) as Record<
    Repo,
    Checkout
  >;
  const schema = JSON.parse(co.pulumi.read(SCHEMA_PATH)) as PulumiSchema;
  const resources = Object.fromEntries(Object.keys(RESOURCE_FILES).map((t) => [t, resourceFacts(t, schema, co.pulumi, co.terraform)]));
  addOpenapiEnums(resources, co.openapi);
  const sources = Object.fromEntries(
    (Object.keys(REPOSITORIES) as Repo[]).map((r) => [r, { repository: REPOSITORIES[r], commit: co[r].commit } satisfies FactSource]),
  ) as ProviderFacts["sources"];
  return {
    generatedBy: "scripts/provider-facts/generate.ts",
    sources,
    resources,
    annotations: annotationFacts(co.ccm, co.openapi),
    notes: notes(co.openapi),
  };
}

export const FACTS_FILE = path.resolve(__dirname, "../../infra/provider-facts/digitalocean.json");

if (require.main === module) {
  const { values } = parseArgs({
    options: {
      pulumi: { type: "string" },
      terraform: { type: "string" },
      ccm: { type: "string" },
      openapi: { type: "string" },
      out: { type: "string" },
    },
  });
  const missing = (Object.keys(REPOSITORIES) as Repo[]).filter((r) => !values[r]);
  if (missing.length) {
    process.stderr.write(`generate: missing ${missing.map((m) => `--${m} <checkout of ${REPOSITORIES[m]}>`).join(", ")}\n`);
    process.exit(2);
  }
  const facts = generate(values as Record<Repo, string>);
  const out = values.out ?? FACTS_FILE;
  fs.writeFileSync(out, `${JSON.stringify(facts, null, 2)}\n`);
  const count = Object.values(facts.resources).reduce((n, r) => n + Object.keys(r.properties).length, 0);
  process.stdout.write(
    `generate: wrote ${out}: ${Object.keys(facts.resources).length} resource types, ${count} property facts, ` +
      `${Object.keys(facts.annotations.known).length} annotations, ${Object.keys(facts.notes).length} notes\n`,
  );
}
