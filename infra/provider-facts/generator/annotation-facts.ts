/**
 * Facts about the Service annotations of DigitalOcean's load balancer: value rules from the CCM's documentation,
 * numeric ranges from openapi, and the id annotation the CCM writes itself.
 */
import { parse as parseYaml } from "yaml";
import { doLoadBalancerAnnotation, DO_LOAD_BALANCER_ANNOTATION_PREFIX } from "../../annotations";
import type { AnnotationFact, ProviderFacts, ValueRule } from "../facts";
import type { Checkout } from "./checkout";

const CCM_ANNOTATIONS_DOC = "docs/controllers/services/annotations.md";
const CCM_ANNOTATIONS_GO = "cloud-controller-manager/do/lb_annotations.go";

/** Service annotations whose numeric range the load balancer API defines (openapi), not the CCM doc. */
const OPENAPI_ANNOTATION_RANGES: { annotation: string; field: string }[] = [
  { annotation: doLoadBalancerAnnotation("http-idle-timeout-seconds"), field: "http_idle_timeout_seconds" },
  { annotation: doLoadBalancerAnnotation("size-unit"), field: "size_unit" },
];
const LB_BASE = "specification/resources/load_balancers/models/load_balancer_base.yml";

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

export function annotationFacts(ccm: Checkout, openapi: Checkout): ProviderFacts["annotations"] {
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
