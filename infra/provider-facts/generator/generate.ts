/**
 * Regenerates `infra/provider-facts/digitalocean.json` from local checkouts of DigitalOcean's published sources:
 *
 *   npx tsx scripts/provider-facts.ts --pulumi <pulumi-digitalocean> --terraform <terraform-provider-digitalocean> \
 *     --ccm <digitalocean-cloud-controller-manager> --openapi <openapi> [--out <file>]
 *
 * Each argument is a work tree or a bare git directory (files are then read from its HEAD). Only distilled facts
 * are written, each with `<repository>@<commit>:<path>`; no source text is copied. Not run by the tests (the
 * checkouts are not on CI machines): `test/infra/provider-facts.test.ts` checks the committed file's shape.
 */
import * as path from "node:path";
import type { FactSource, PropertyFact, ProviderFacts, ResourceFacts } from "../facts";
import { annotationFacts } from "./annotation-facts";
import { Checkout, REPOSITORIES, type Repo } from "./checkout";
import { forceNewIfChangeFields, resourceSchema } from "./go-schema";
import { limitFacts } from "./limit-facts";
import { addOpenapiEnums, addOpenapiRequired, notes } from "./openapi-facts";
import { collectProperties, pulumiName, resolverFor, type PulumiSchema } from "./property-facts";

const SCHEMA_PATH = "provider/cmd/pulumi-resource-digitalocean/schema.json";

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
  "digitalocean:index/loadBalancer:LoadBalancer": "digitalocean/loadbalancer/resource_loadbalancer.go",
};

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

/**
 * Top-level inputs the provider fills in when the program leaves them out: a terraform `Default:`, and a field
 * terraform requires that Pulumi's schema does not (Pulumi auto-names it, as with `name`).
 */
function suppliedByProvider(token: string, schema: PulumiSchema, tf: Checkout): Set<string> {
  const resource = schema.resources[token]!;
  const file = RESOURCE_FILES[token]!;
  const required = new Set(resource.requiredInputs ?? []);
  const supplied = resourceSchema(tf.read(file), resolverFor(tf, file))
    .filter((f) => f.hasDefault === true || f.required)
    .map((f) => pulumiName(f.name, resource.inputProperties))
    .filter((name): name is string => name !== undefined && !required.has(name));
  return new Set(supplied);
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
  addOpenapiRequired(resources, co.openapi, (token) => suppliedByProvider(token, schema, co.terraform));
  const sources = Object.fromEntries(
    (Object.keys(REPOSITORIES) as Repo[]).map((r) => [r, { repository: REPOSITORIES[r], commit: co[r].commit } satisfies FactSource]),
  ) as ProviderFacts["sources"];
  return {
    generatedBy: "scripts/provider-facts.ts",
    sources,
    resources,
    annotations: annotationFacts(co.ccm, co.openapi),
    notes: notes(co.openapi),
    limits: limitFacts(co.openapi),
  };
}

export const FACTS_FILE = path.resolve(__dirname, "../digitalocean.json");
