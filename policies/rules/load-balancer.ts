/**
 * Rule 7: the DigitalOcean load balancer in front of the app (a Service of type LoadBalancer) is
 * REGIONAL, health-checks the app's readiness endpoint itself, and keeps idle WebSockets open.
 */
import * as k8s from "@pulumi/kubernetes";
import { validateResourceOfType, type ResourceValidationPolicy } from "@pulumi/policy";
import { doLoadBalancerAnnotation } from "../../infra/annotations";
import { describe, field, message, stringMap, subject } from "./props";
import { configSchemaOf, integerSetting, readSettings, stringSetting } from "./settings";

/** DigitalOcean accepts HTTP idle timeouts from 30 to 600 seconds. */
export const IDLE_TIMEOUT_RANGE = { min: 30, max: 600 } as const;

/** Whether a Service is exposed through a cloud load balancer. */
export function isLoadBalancerService(props: Record<string, unknown>): boolean {
  return field(props, "spec", "type") === "LoadBalancer";
}

const loadBalancerSettings = {
  loadBalancerType: stringSetting("REGIONAL", "Required do-loadbalancer-type."),
  healthCheckPath: stringSetting("/readyz", "Required do-loadbalancer-healthcheck-path (the app's readiness endpoint)."),
  minIdleTimeoutSeconds: integerSetting(
    600,
    IDLE_TIMEOUT_RANGE.min,
    "Lowest do-loadbalancer-http-idle-timeout-seconds (WebSockets idle longer than this are cut).",
  ),
};

export const loadBalancerConfiguration: ResourceValidationPolicy = {
  name: "load-balancer-configuration",
  description: "The app's load balancer is REGIONAL, health-checks the readiness endpoint, and keeps idle WebSockets open.",
  configSchema: configSchemaOf(loadBalancerSettings),
  validateResource: validateResourceOfType(k8s.core.v1.Service, (_service, args, reportViolation) => {
    if (!isLoadBalancerService(args.props)) return args.notApplicable("only Services of type LoadBalancer");
    const settings = readSettings(args, loadBalancerSettings);
    const annotations = stringMap(field(args.props, "metadata", "annotations"));
    const rawAnnotations = field(args.props, "metadata", "annotations");
    const resource = subject(args.type, args.name);
    const check = (suffix: string, ok: (value: string | undefined) => boolean, required: string, reason: string) => {
      const key = doLoadBalancerAnnotation(suffix);
      if (ok(annotations[key])) return;
      reportViolation(
        message({ resource, property: `metadata.annotations["${key}"]`, found: describe(field(rawAnnotations, key)), required, reason }),
      );
    };

    check(
      "type",
      (value) => value === settings.loadBalancerType,
      JSON.stringify(settings.loadBalancerType),
      "A regional load balancer is DigitalOcean's HTTP-aware, redundant type that these annotations configure.",
    );
    check(
      "override-health-check",
      (value) => value === "true",
      '"true"',
      "Without the override DigitalOcean checks kube-proxy on the nodes, not whether the app can serve.",
    );
    check(
      "healthcheck-path",
      (value) => value === settings.healthCheckPath,
      JSON.stringify(settings.healthCheckPath),
      "The load balancer must stop routing to an instance that is draining or cut off from its dependencies.",
    );
    check(
      "http-idle-timeout-seconds",
      (value) => {
        if (value === undefined || !/^\d+$/.test(value)) return false;
        const seconds = Number(value);
        return seconds >= settings.minIdleTimeoutSeconds && seconds <= IDLE_TIMEOUT_RANGE.max;
      },
      `a string of seconds from ${settings.minIdleTimeoutSeconds} to ${IDLE_TIMEOUT_RANGE.max} (DigitalOcean accepts ${IDLE_TIMEOUT_RANGE.min}–${IDLE_TIMEOUT_RANGE.max})`,
      "The default 60 s cuts every WebSocket that stays quiet for a minute.",
    );
  }),
};

/**
 * With a certificate on the load balancer, DigitalOcean creates DNS records for a Let's Encrypt certificate's domain
 * pointing at it (the zone apex included) unless told not to
 * (digitalocean/digitalocean-cloud-controller-manager@70d527e38456469eadcf69624228eeaa4c0fec37:
 * docs/controllers/services/annotations.md, do-loadbalancer-disable-lets-encrypt-dns-records, default "false").
 */
export const loadBalancerLetsEncryptDns: ResourceValidationPolicy = {
  name: "load-balancer-lets-encrypt-dns",
  description: "A load balancer with a certificate does not let DigitalOcean write DNS records (it would take over the zone apex).",
  validateResource: validateResourceOfType(k8s.core.v1.Service, (_service, args, reportViolation) => {
    if (!isLoadBalancerService(args.props)) return args.notApplicable("only Services of type LoadBalancer");
    const annotations = stringMap(field(args.props, "metadata", "annotations"));
    const certificate = [doLoadBalancerAnnotation("certificate-name"), doLoadBalancerAnnotation("certificate-id")].find(
      (k) => annotations[k] !== undefined,
    );
    if (!certificate) return;
    const key = doLoadBalancerAnnotation("disable-lets-encrypt-dns-records");
    if (annotations[key] === "true") return;
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: `metadata.annotations["${key}"]`,
        found: describe(field(field(args.props, "metadata", "annotations"), key)),
        required: `"true" (the Service sets ${certificate})`,
        reason:
          "Otherwise DigitalOcean points the certificate's domain, apex included, at this load balancer, " +
          "replacing records it does not own.",
      }),
    );
  }),
};

/**
 * The health check must judge the pod that the checked node sends traffic to: with `externalTrafficPolicy: Cluster` a
 * node forwards to a random pod anywhere, so /readyz through its NodePort says nothing about that node
 * (digitalocean/digitalocean-cloud-controller-manager@70d527e38456469eadcf69624228eeaa4c0fec37:docs/getting-started.md,
 * "Health check configuration").
 */
export const loadBalancerTrafficPolicy: ResourceValidationPolicy = {
  name: "load-balancer-traffic-policy",
  description:
    "The app's load balancer Service keeps traffic on the node it reaches (externalTrafficPolicy Local), " +
    "so health checks mean that node's pod.",
  validateResource: validateResourceOfType(k8s.core.v1.Service, (_service, args, reportViolation) => {
    if (!isLoadBalancerService(args.props)) return args.notApplicable("only Services of type LoadBalancer");
    const policy = field(args.props, "spec", "externalTrafficPolicy");
    if (policy === "Local") return;
    reportViolation(
      message({
        resource: subject(args.type, args.name),
        property: "spec.externalTrafficPolicy",
        found: describe(policy === undefined ? undefined : policy),
        required: '"Local"',
        reason:
          "With Cluster (the default) a node's /readyz check reaches a random pod: " +
          "a node stays in rotation while its own pod is not ready.",
      }),
    );
  }),
};

/** Rule 7. */
export const loadBalancerPolicies = [loadBalancerConfiguration, loadBalancerLetsEncryptDns, loadBalancerTrafficPolicy];
