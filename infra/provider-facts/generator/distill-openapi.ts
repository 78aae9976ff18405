/**
 * Distils the DigitalOcean API operations the failover driver calls from a checkout of digitalocean/openapi into
 * test/failover/digitalocean-openapi.json: for each operation its method, path, path parameters, request body and
 * response schemas, every `$ref` resolved inline, with the repository, commit and file each came from. The stand-in
 * API server of test/failover validates every request (and its own responses) against these schemas. Only the
 * distilled schemas are committed, not the specification.
 *
 *   npx tsx infra/provider-facts/generator/distill-openapi.ts --openapi <checkout of digitalocean/openapi> [--out <file>]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import { Checkout } from "./checkout";

/** The operations the driver uses (app/src/failover/digitalocean-driver.ts), by path and method. */
export const OPERATIONS: { method: "get" | "put" | "post"; path: string }[] = [
  { method: "get", path: "/v2/load_balancers/{lb_id}" },
  { method: "put", path: "/v2/load_balancers/{lb_id}" },
  { method: "get", path: "/v2/databases/{database_cluster_uuid}" },
  { method: "get", path: "/v2/databases/{database_cluster_uuid}/firewall" },
  { method: "put", path: "/v2/databases/{database_cluster_uuid}/firewall" },
  { method: "get", path: "/v2/databases/{database_cluster_uuid}/replicas/{replica_name}" },
  { method: "put", path: "/v2/databases/{database_cluster_uuid}/replicas/{replica_name}/promote" },
  { method: "get", path: "/v2/databases/{database_cluster_uuid}/pools/{pool_name}" },
  { method: "post", path: "/v2/databases/{database_cluster_uuid}/pools" },
  { method: "put", path: "/v2/databases/{database_cluster_uuid}/resize" },
  { method: "get", path: "/v2/uptime/checks/{check_id}/state" },
];

const ROOT_FILE = "specification/DigitalOcean-public.v2.yaml";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The parts of an OpenAPI operation object read here. */
interface OperationObject {
  operationId: string;
  parameters?: { name: string; in: string; required?: boolean; schema: Json }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema: Json }> };
  responses?: Record<string, { content?: Record<string, { schema?: Json }> }>;
}

/** Resolves `$ref`s (relative file paths with an optional `#/json/pointer`) recursively, recording each file read. */
class Resolver {
  readonly files = new Set<string>();
  private readonly cache = new Map<string, Json>();
  constructor(private readonly checkout: Checkout) {}

  load(file: string): Json {
    const normal = path.posix.normalize(file);
    if (!this.cache.has(normal)) {
      this.files.add(normal);
      this.cache.set(normal, parse(this.checkout.read(normal)) as Json);
    }
    return this.cache.get(normal)!;
  }

  resolve(value: Json, file: string, depth = 0): Json {
    if (depth > 60) throw new Error(`$ref nesting deeper than 60 in ${file}`);
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, file, depth + 1));
    if (value === null || typeof value !== "object") return value;
    const ref = value.$ref;
    if (typeof ref === "string") {
      const [target, pointer] = ref.split("#");
      const targetFile = target ? path.posix.join(path.posix.dirname(file), target) : file;
      let node = this.load(targetFile);
      for (const part of (pointer ?? "").split("/").filter(Boolean)) {
        node = (node as Record<string, Json>)[part.replace(/~1/g, "/").replace(/~0/g, "~")]!;
        if (node === undefined) throw new Error(`${ref} (from ${file}): no ${part}`);
      }
      return this.resolve(node, targetFile, depth + 1);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, file, depth + 1)]));
  }
}

/** The distilled document. */
export function distill(checkout: Checkout) {
  const resolver = new Resolver(checkout);
  const root = resolver.load(ROOT_FILE) as { paths: Record<string, Record<string, { $ref: string }>> };
  const operations = OPERATIONS.map(({ method, path: apiPath }) => {
    const ref = root.paths[apiPath]?.[method]?.$ref;
    if (!ref) throw new Error(`${method.toUpperCase()} ${apiPath} is not in ${ROOT_FILE}`);
    const file = path.posix.join(path.posix.dirname(ROOT_FILE), ref);
    const op = resolver.resolve(resolver.load(file), file) as unknown as OperationObject;
    const body = op.requestBody?.content?.["application/json"];
    const responses = Object.fromEntries(
      Object.entries(op.responses ?? {})
        .filter(([code]) => /^2\d\d$/.test(code))
        .map(([code, r]) => [code, r.content?.["application/json"]?.schema ?? null]),
    );
    return {
      method: method.toUpperCase(),
      path: apiPath,
      operationId: op.operationId,
      source: checkout.source(file),
      parameters: (op.parameters ?? [])
        .filter((p) => p.in === "path")
        .map((p) => ({ name: p.name, required: p.required === true, schema: p.schema })),
      requestBody: body ? { required: op.requestBody?.required === true, schema: body.schema } : null,
      responses,
    };
  });
  return {
    generatedBy: "infra/provider-facts/generator/distill-openapi.ts",
    source: { repository: "digitalocean/openapi", commit: checkout.commit },
    files: [...resolver.files].sort(),
    operations,
  };
}

function main(): void {
  const { values } = parseArgs({ options: { openapi: { type: "string" }, out: { type: "string" } } });
  if (!values.openapi) throw new Error("usage: distill-openapi.ts --openapi <checkout of digitalocean/openapi> [--out <file>]");
  const out = values.out ?? path.join(__dirname, "..", "..", "..", "test", "failover", "digitalocean-openapi.json");
  const doc = distill(new Checkout("openapi", values.openapi));
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(doc, null, 1)}\n`);
  process.stdout.write(`${out}: ${doc.operations.length} operations from ${doc.source.repository}@${doc.source.commit}\n`);
}

if (require.main === module) main();
