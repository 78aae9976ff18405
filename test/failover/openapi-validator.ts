/**
 * Validates HTTP requests (and the stand-in's own responses) against the DigitalOcean API operations distilled from
 * digitalocean/openapi into ./digitalocean-openapi.json (scripts/provider-facts/distill-openapi.ts): the method and
 * path must be a published operation, path parameters and the JSON body must match its schemas (ajv), an operation
 * without a request body must get none.
 *
 * One documented deviation: the published body of PUT /v2/load_balancers/{lb_id} (load_balancer_create.yml) requires
 * `region`, `forwarding_rules` and droplets (`droplet_ids` or `tag`) as for a REGIONAL load balancer, which a GLOBAL
 * one must not have: "'region' must be empty or not set when 'type' is 'GLOBAL'" and `glb_settings` conflicts with
 * `forwarding_rule` (terraform-provider-digitalocean@401992a1e493a0e3cfc833197820867991fc011f:
 * digitalocean/loadbalancer/resource_loadbalancer.go, loadbalancerDiffCheck and glb_settings). A body with
 * `type: "GLOBAL"` is checked against the published properties (every field's type and enum, no unknown field)
 * with those three forbidden and `name`, `glb_settings`, `target_load_balancer_ids` required; likewise an answer that
 * describes a GLOBAL load balancer is not required to carry forwarding rules.
 */
import Ajv, { type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as fs from "node:fs";
import * as path from "node:path";

interface DistilledOperation {
  method: string;
  path: string;
  operationId: string;
  source: string;
  parameters: { name: string; required: boolean; schema: object }[];
  requestBody: { required: boolean; schema: object } | null;
  responses: Record<string, object | null>;
}

export interface Distilled {
  source: { repository: string; commit: string };
  operations: DistilledOperation[];
}

export const DISTILLED: Distilled = JSON.parse(fs.readFileSync(path.join(__dirname, "digitalocean-openapi.json"), "utf8"));

interface CompiledOperation {
  op: DistilledOperation;
  pattern: RegExp;
  params: Record<string, ValidateFunction>;
  body?: ValidateFunction;
  globalBody?: ValidateFunction;
  globalResponse?: ValidateFunction;
  responses: Record<string, ValidateFunction>;
}

/** The properties object of the load balancer schema (the third allOf part of each oneOf branch). */
function loadBalancerProperties(schema: any): Record<string, object> {
  const base = schema.oneOf?.[0]?.allOf?.find((part: any) => part.properties?.glb_settings);
  if (!base) throw new Error("PUT /v2/load_balancers/{lb_id}: no load balancer properties in the published schema");
  return base.properties;
}

export class OpenApiValidator {
  private readonly operations: CompiledOperation[];

  constructor(distilled: Distilled = DISTILLED) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    this.operations = distilled.operations.map((op) => {
      const pattern = new RegExp(`^${op.path.replace(/\{[^}]+\}/g, "([^/]+)")}$`);
      const params = Object.fromEntries(op.parameters.map((p) => [p.name, ajv.compile(p.schema)]));
      const compiled: CompiledOperation = {
        op,
        pattern,
        params,
        body: op.requestBody ? ajv.compile(op.requestBody.schema) : undefined,
        responses: Object.fromEntries(Object.entries(op.responses).flatMap(([code, s]) => (s ? [[code, ajv.compile(s)]] : []))),
      };
      if (op.method === "PUT" && op.path === "/v2/load_balancers/{lb_id}") {
        const properties = loadBalancerProperties(op.requestBody!.schema);
        compiled.globalBody = ajv.compile({
          type: "object",
          properties,
          additionalProperties: false,
          required: ["name", "type", "glb_settings", "target_load_balancer_ids"],
          not: { anyOf: ["region", "forwarding_rules", "droplet_ids", "tag"].map((k) => ({ required: [k] })) },
        });
      }
      if (op.path === "/v2/load_balancers/{lb_id}") {
        // The answer describing a GLOBAL load balancer: the published properties, without the REGIONAL-only requirement
        // of forwarding rules (the same deviation as the request body, see the file comment).
        const properties = loadBalancerProperties(op.method === "PUT" ? op.requestBody!.schema : putBodyOf(distilled));
        compiled.globalResponse = ajv.compile({
          type: "object",
          properties: {
            load_balancer: { type: "object", properties, additionalProperties: false, required: ["id", "name", "type", "glb_settings"] },
          },
          required: ["load_balancer"],
        });
      }
      return compiled;
    });
  }

  private match(method: string, urlPath: string): { c: CompiledOperation; values: string[] } | undefined {
    for (const c of this.operations) {
      if (c.op.method !== method) continue;
      const m = c.pattern.exec(urlPath);
      if (m) return { c, values: m.slice(1).map(decodeURIComponent) };
    }
    return undefined;
  }

  /** Problems with a request; [] when it is a valid call of a published operation. */
  validateRequest(method: string, urlPath: string, body: unknown): string[] {
    const found = this.match(method, urlPath);
    if (!found) return [`${method} ${urlPath}: not an operation the distilled specification has`];
    const { c, values } = found;
    const where = `${method} ${c.op.path} (${c.op.operationId}, ${c.op.source})`;
    const problems: string[] = [];
    c.op.parameters.forEach((p, i) => {
      const validate = c.params[p.name]!;
      if (!validate(values[i])) problems.push(`${where}: path parameter ${p.name}=${JSON.stringify(values[i])}: ${ajvText(validate)}`);
    });
    if (!c.op.requestBody) {
      if (body !== undefined) problems.push(`${where}: takes no request body, got one`);
      return problems;
    }
    if (body === undefined) {
      if (c.op.requestBody.required) problems.push(`${where}: the request body is required`);
      return problems;
    }
    const isGlobal = c.globalBody !== undefined && (body as { type?: unknown })?.type === "GLOBAL";
    const validate = isGlobal ? c.globalBody! : c.body!;
    if (!validate(body)) problems.push(`${where}: body: ${ajvText(validate)}`);
    return problems;
  }

  /** Problems with a response the stand-in is about to send (so the driver is tested against realistic shapes). */
  validateResponse(method: string, urlPath: string, status: number, body: unknown): string[] {
    const found = this.match(method, urlPath);
    if (!found || status >= 300) return [];
    const global = found.c.globalResponse && (body as { load_balancer?: { type?: unknown } })?.load_balancer?.type === "GLOBAL";
    const validate = global ? found.c.globalResponse : found.c.responses[String(status)];
    if (!validate) {
      return found.c.op.responses[String(status)] === undefined
        ? [`${method} ${found.c.op.path}: status ${status} is not a documented success (${Object.keys(found.c.op.responses).join(", ")})`]
        : [];
    }
    return validate(body) ? [] : [`${method} ${found.c.op.path}: response ${status}: ${ajvText(validate)}`];
  }
}

function putBodyOf(distilled: Distilled): object {
  const put = distilled.operations.find((o) => o.method === "PUT" && o.path === "/v2/load_balancers/{lb_id}");
  if (!put?.requestBody) throw new Error("the distilled specification has no PUT /v2/load_balancers/{lb_id}");
  return put.requestBody.schema;
}

function ajvText(validate: ValidateFunction): string {
  return (validate.errors ?? [])
    .map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ""}`)
    .join("; ");
}
