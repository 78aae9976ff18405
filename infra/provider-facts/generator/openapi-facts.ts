/** Facts from DigitalOcean's openapi: the enums terraform does not validate, the VPC range rule, and notes. */
import { parse as parseYaml } from "yaml";
import type { ProviderFacts, ResourceFacts, ValueRule } from "../facts";
import type { Checkout } from "./checkout";

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
const VPC_MODEL = "specification/resources/vpcs/models/vpc.yml";

/** Create operations whose request body's `required` list says more than the Pulumi schema's requiredInputs. */
const OPENAPI_CREATE_OPERATIONS: { type: string; file: string }[] = [
  { type: "digitalocean:index/uptimeAlert:UptimeAlert", file: "specification/resources/uptime/create_alert.yml" },
  { type: "digitalocean:index/uptimeCheck:UptimeCheck", file: "specification/resources/uptime/create_check.yml" },
];

const camelCase = (snake: string): string => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * The inputs each create operation requires that the schema does not (`apiRequiredInputs`). Left out: a required
 * API field that is no input of the resource (the path's check id, say), and one the provider fills in itself
 * (`suppliedByProvider`: a terraform `Default:`, or a terraform-required `name` Pulumi auto-names).
 */
export function addOpenapiRequired(
  resources: Record<string, ResourceFacts>,
  openapi: Checkout,
  suppliedByProvider: (type: string) => Set<string>,
): void {
  for (const { type, file } of OPENAPI_CREATE_OPERATIONS) {
    const operation = parseYaml(openapi.read(file)) as {
      requestBody: { content: { "application/json": { schema: { required?: string[] } } } };
    };
    const required = operation.requestBody.content["application/json"].schema.required;
    if (!required) throw new Error(`${file}: no required list in the request body`);
    const facts = resources[type]!;
    const supplied = suppliedByProvider(type);
    const extra = required
      .map(camelCase)
      .filter((name) => facts.inputs.includes(name) && !facts.requiredInputs.includes(name) && !supplied.has(name));
    if (extra.length) facts.apiRequiredInputs = { inputs: extra.sort(), source: openapi.source(file) };
  }
}

function pointerInto(doc: unknown, pointer: string[]): Record<string, unknown> {
  return pointer.reduce<Record<string, unknown>>((node, key) => node[key] as Record<string, unknown>, doc as Record<string, unknown>);
}

export function addOpenapiEnums(resources: Record<string, ResourceFacts>, openapi: Checkout): void {
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

export function notes(openapi: Checkout): ProviderFacts["notes"] {
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
