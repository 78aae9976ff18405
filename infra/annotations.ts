/**
 * Annotation keys the stack writes and the policy pack and the offline preview read: one definition each.
 */

/**
 * Prefix of the DigitalOcean cloud controller manager's load balancer annotations on a Service
 * (`annDOLoadBalancerBase` in digitalocean/digitalocean-cloud-controller-manager@70d527e38456469eadcf69624228eeaa4c0fec37:
 * cloud-controller-manager/do/lb_annotations.go, line 24).
 */
export const DO_LOAD_BALANCER_ANNOTATION_PREFIX = "service.beta.kubernetes.io/do-loadbalancer-";

/** The CCM's annotation `service.beta.kubernetes.io/do-loadbalancer-<name>`, e.g. doLoadBalancerAnnotation("size-unit"). */
export function doLoadBalancerAnnotation(name: string): string {
  return `${DO_LOAD_BALANCER_ANNOTATION_PREFIX}${name}`;
}

/**
 * The annotation in which the DigitalOcean CCM records the id of the load balancer it made for a Service
 * (`annDOLoadBalancerID` in digitalocean/digitalocean-cloud-controller-manager@70d527e38456469eadcf69624228eeaa4c0fec37:
 * cloud-controller-manager/do/lb_annotations.go; docs/getting-started.md, "Load-balancer ID annotations": it annotates new
 * and existing Services).
 */
export const DO_LOAD_BALANCER_ID_ANNOTATION = "kubernetes.digitalocean.com/load-balancer-id";

/** Pod template annotation of the app listing its LiveKit deployments by name (comma-separated, configuration order). */
export const LIVEKIT_DEPLOYMENTS_ANNOTATION = "gomeet.dev/livekit-deployments";

/**
 * A Deployment that must never run twice at once (the region failover controller: two would race each other's API
 * calls), with the reason as the value. The policy pack then asks exactly one replica and the Recreate strategy instead
 * of the HA rules (replicas, rolling update, spread, disruption budget), and the scorecard shows it as an accepted
 * single point of failure with that reason; probes, ServiceAccount, PriorityClass, security and monitoring still apply.
 */
export const SINGLETON_ANNOTATION = "gomeet.dev/singleton";

/** Annotations of the failover controller's Deployment that the scorecard reads for the region tier's RTO and RPO. */
export const FAILOVER_ANNOTATIONS = {
  mode: "gomeet.dev/failover-mode",
  detectionWindowSeconds: "gomeet.dev/failover-detection-window-seconds",
  maxReplicationLagSeconds: "gomeet.dev/failover-max-replication-lag-seconds",
} as const;
